use super::*;

const BODY: &[u8] = br#"{"schema":"PaymentStatusReport"}"#;

fn pair() -> (SigningKey, VerifyingKey) {
    let (private, public) = generate_pair().unwrap();
    (
        SigningKey::from_pem(private.as_bytes(), "test-scheme").unwrap(),
        VerifyingKey::from_pem(public.as_bytes(), 30_000, 300_000).unwrap(),
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn a_signed_body_verifies_with_its_claims() {
    let (signer, verifier) = pair();
    let token = signer.sign(BODY).unwrap();
    let claims = verifier.verify(Some(&token), BODY, now()).unwrap();
    assert_eq!(claims.iss.as_deref(), Some("test-scheme"));
    assert_eq!(claims.content_digest, Some(content_digest(BODY)));
    assert_eq!(claims.exp, claims.iat.map(|iat| iat + TOKEN_LIFETIME_S));
}

#[test]
fn a_changed_byte_wrong_key_or_missing_header_is_refused() {
    let (signer, verifier) = pair();
    let token = signer.sign(BODY).unwrap();
    let mut tampered = BODY.to_vec();
    tampered[3] ^= 1;
    assert_eq!(
        verifier.verify(Some(&token), &tampered, now()),
        Err(Refusal::Digest)
    );
    let (other_signer, _) = pair();
    let forged = other_signer.sign(BODY).unwrap();
    assert_eq!(
        verifier.verify(Some(&forged), BODY, now()),
        Err(Refusal::Signature)
    );
    assert_eq!(verifier.verify(None, BODY, now()), Err(Refusal::Missing));
    assert_eq!(
        verifier.verify(Some("not.a.jwt"), BODY, now()),
        Err(Refusal::Malformed)
    );
}

#[test]
fn stale_and_future_tokens_are_refused_within_the_skew() {
    let (signer, verifier) = pair();
    let expired = signer.sign_at(BODY, now() - 3_600).unwrap();
    assert_eq!(
        verifier.verify(Some(&expired), BODY, now()),
        Err(Refusal::Expired)
    );
    let future = signer.sign_at(BODY, now() + 600).unwrap();
    assert_eq!(
        verifier.verify(Some(&future), BODY, now()),
        Err(Refusal::IssuedAt)
    );
    // 20 s ahead is inside the 30 s skew.
    let slightly_ahead = signer.sign_at(BODY, now() + 20).unwrap();
    assert!(verifier.verify(Some(&slightly_ahead), BODY, now()).is_ok());
}

#[test]
fn only_es256_is_accepted() {
    let (_, verifier) = pair();
    let claims = Claims {
        iss: None,
        iat: Some(now()),
        exp: Some(now() + 60),
        jti: None,
        content_digest: Some(content_digest(BODY)),
    };
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"guessable"),
    )
    .unwrap();
    assert_eq!(
        verifier.verify(Some(&hs256), BODY, now()),
        Err(Refusal::Algorithm)
    );
}

#[test]
fn the_digest_is_accepted_in_hex_and_either_base64_alphabet() {
    let digest = Sha256::digest(BODY);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    for claimed in [hex.as_str(), url.as_str(), &content_digest(BODY)] {
        assert!(digest_matches(claimed, BODY), "{claimed}");
    }
    assert!(!digest_matches(&hex.replace('a', "b"), BODY) || !hex.contains('a'));
    assert!(!digest_matches("", BODY));
}
