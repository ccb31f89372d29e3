use proptest::prelude::*;

use super::*;
use crate::emv::crc::checksum_hex;

/// EMVCo's own example payload (MPM specification v1.1, appendix), valid by the standard.
const EMVCO_EXAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

/// Appends `6304` and the checksum to `body`.
fn sealed(body: &str) -> String {
    let text = format!("{body}6304");
    let crc = checksum_hex(&text);
    format!("{text}{crc}")
}

fn rules(reading: &Reading) -> Vec<(String, Rule)> {
    reading
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.rule))
        .collect()
}

#[test]
fn the_standards_own_example_satisfies_every_full_scheme() {
    let reading = read(EMVCO_EXAMPLE);
    assert!(reading
        .findings
        .iter()
        .all(|f| f.breaks == [QrScheme::ElectrumMerchantMinimal]));
    assert_eq!(
        reading.satisfied(),
        [QrScheme::EmvcoMerchant, QrScheme::PseudoEmvcoMerchant]
    );
    assert_eq!(reading.value(59), Some("BEST TRANSPORT"));
    assert_eq!(reading.sub_value(64, 1), Some("最佳运输"));
    assert_eq!(reading.sub_value(62, 9), Some("ME"));
}

/// Given the shape Electrum issues at tills (00, 26, 27, 53, 54, 63), then it is minimal and
/// pseudo-EMV, and not strict EMV for want of 52, 58, 59 and 60 alone.
#[test]
fn a_till_shaped_code_is_minimal_and_pseudo_but_not_strict() {
    let code = sealed("00020126260008za.co.mp0110248723666427530023za.co.electrum.demoshop0122ydgKJviKSomaVw0297RaZw5303710540571.40");
    let reading = read(&code);
    assert_eq!(
        reading.satisfied(),
        [
            QrScheme::PseudoEmvcoMerchant,
            QrScheme::ElectrumMerchantMinimal
        ]
    );
    let strict: Vec<_> = reading
        .breaking(QrScheme::EmvcoMerchant)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(strict, ["52", "58", "59", "60"]);
}

/// Network primitives (02–25) are merchant accounts: a code with only a Visa and a
/// Mastercard account is valid EMV.
#[test]
fn card_network_primitives_are_merchant_accounts() {
    let code = sealed(concat!(
        "000201",
        "010211",
        "0216",
        "4111111111111111",
        "0415",
        "512345678901234",
        "5204",
        "5411",
        "5303",
        "710",
        "5404",
        "1.00",
        "5802",
        "ZA",
        "5910",
        "Corner Sho",
        "6006",
        "Durban"
    ));
    let reading = read(&code);
    assert!(
        reading.satisfies(QrScheme::EmvcoMerchant),
        "{:#?}",
        reading.findings
    );
    assert!(!reading.satisfies(QrScheme::ElectrumMerchantMinimal));
}

#[test]
fn the_crc_is_compared_without_regard_to_case() {
    let lower = format!("{}{}", &EMVCO_EXAMPLE[..EMVCO_EXAMPLE.len() - 4], "a13a");
    assert!(read(&lower).satisfies(QrScheme::EmvcoMerchant));
    let wrong = format!("{}{}", &EMVCO_EXAMPLE[..EMVCO_EXAMPLE.len() - 4], "A13B");
    assert!(rules(&read(&wrong)).contains(&("63".to_owned(), Rule::Crc)));
}

/// Each rule is named with its data object.
#[test]
fn every_broken_rule_is_a_finding_with_its_id() {
    let cases: &[(&str, (&str, Rule))] = &[
        ("000202", ("00", Rule::Format)),
        ("0102110002", ("00", Rule::Order)),
        ("000201010213", ("01", Rule::Format)),
        ("0002015203abc", ("52", Rule::Format)),
        ("0002015404-1.0", ("54", Rule::Format)),
        ("00020154040.00", ("54", Rule::Format)),
        ("000201550204", ("55", Rule::Format)),
        ("000201550202", ("56", Rule::Conditional)),
        ("00020157055.000", ("57", Rule::Format)),
        ("0002015802Z1", ("58", Rule::Format)),
        ("0002016502ab", ("65", Rule::Reserved)),
        ("000201620515011", ("62.15", Rule::Reserved)),
        ("0002016207090301X", ("62.09", Rule::Format)),
        ("0002016206110212", ("62.11", Rule::Length)),
        ("00020164060102ab", ("64", Rule::Presence)),
        ("00020180080104abcd", ("80", Rule::Presence)),
        ("00020126080104abcd", ("26", Rule::Presence)),
        ("0002010200", ("02", Rule::Length)),
        ("0002015926abcdefghijklmnopqrstuvwxyz", ("59", Rule::Length)),
    ];
    for (body, expected) in cases {
        let found = rules(&read(&sealed(body)));
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1)),
            "{body}: expected {expected:?} in {found:?}"
        );
    }
}

#[test]
fn a_broken_structure_names_where_it_broke() {
    assert!(rules(&read("0002015905ab")).contains(&("59".to_owned(), Rule::Structure)));
    assert!(rules(&read("0002015x")).contains(&(String::new(), Rule::Structure)));
    assert!(rules(&read("00020126040005")).contains(&("26.00".to_owned(), Rule::Structure)));
}

#[test]
fn the_same_id_twice_is_a_duplicate() {
    let found = rules(&read(&sealed("00020153037105303710")));
    assert!(found.contains(&("53".to_owned(), Rule::Duplicate)));
}

#[test]
fn empty_and_oversized_payloads_are_findings() {
    assert!(rules(&read("")).contains(&(String::new(), Rule::Structure)));
    let long = sealed(&format!("000201{}", "5903abc".repeat(80)));
    assert!(rules(&read(&long)).contains(&(String::new(), Rule::Length)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No input of up to 4 KiB makes the reader panic, and every finding names a scheme.
    #[test]
    fn no_input_panics(text in "\\PC{0,4096}") {
        let reading = read(&text);
        prop_assert!(reading.findings.iter().all(|f| !f.breaks.is_empty()));
    }

    /// Nor does a valid payload with any one character replaced, inserted or removed; a
    /// replaced character is always caught (CRC-16 finds every single-character error).
    #[test]
    fn mutated_payloads_never_panic_and_replacements_fail(
        at in 0usize..200,
        c in proptest::char::range(' ', '~'),
        how in 0u8..3,
    ) {
        let chars: Vec<char> = EMVCO_EXAMPLE.chars().collect();
        let at = at % chars.len();
        let mut mutated = chars.clone();
        match how {
            0 => mutated[at] = c,
            1 => mutated.insert(at, c),
            _ => { mutated.remove(at); }
        }
        let text: String = mutated.iter().collect();
        let reading = read(&text);
        let crc_case_only = at + 4 >= chars.len() && c.eq_ignore_ascii_case(&chars[at]);
        if how == 0 && mutated != chars && !crc_case_only {
            prop_assert!(reading.satisfied().is_empty(), "{text}");
        }
    }
}
