//! `qrswitch qr inspect`: the verdict on any QR payload from the command line, typed, piped
//! in, or read from a photo or PNG of the code. Exit 0 when it satisfies at least one of
//! the contract's schemes, 1 when it satisfies none.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

use crate::emv::inspect::{inspect, payload_from_image, scheme_names, Inspection};
use crate::emv::reader::Field;

/// Longest payload read from standard input, in bytes: far beyond the 512 characters EMV
/// allows, so a real payload is never cut and a stray file is not read whole.
const STDIN_MAX_BYTES: u64 = 64 * 1024;

/// What to inspect and how to say it.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The payload, or `-` to read it from standard input.
    pub payload: Option<String>,
    /// Read the payload from the first QR code in this PNG or JPEG instead.
    #[arg(long, conflicts_with = "payload")]
    pub image: Option<PathBuf>,
    /// Print the fields, findings and satisfied schemes as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Inspects as asked and prints the verdict; whether any scheme is satisfied.
pub fn run(args: InspectArgs) -> anyhow::Result<bool> {
    let payload = match (&args.image, args.payload.as_deref()) {
        (Some(path), _) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            payload_from_image(&bytes).map_err(anyhow::Error::msg)?
        }
        (None, Some("-")) => {
            let mut text = String::new();
            std::io::stdin()
                .take(STDIN_MAX_BYTES)
                .read_to_string(&mut text)
                .context("reading the payload from standard input")?;
            text
        }
        (None, Some(payload)) => payload.to_owned(),
        (None, None) => anyhow::bail!("give a payload, `-` for standard input, or --image FILE"),
    };
    let inspection = inspect(&payload);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print_text(&inspection);
    }
    Ok(!inspection.satisfies.is_empty())
}

fn print_text(inspection: &Inspection) {
    println!("payload    {}", inspection.payload);
    println!("satisfies  {}", scheme_names(&inspection.satisfies));
    println!("fields");
    for field in &inspection.fields {
        print_field(field, 1);
    }
    if inspection.findings.is_empty() {
        println!("findings   none");
        return;
    }
    println!("findings");
    for finding in &inspection.findings {
        let id = if finding.id.is_empty() {
            "--"
        } else {
            &finding.id
        };
        println!(
            "  {id:<6} {:<11} {}  (rules out {})",
            format!("{:?}", finding.rule).to_lowercase(),
            finding.message,
            scheme_names(&finding.breaks)
        );
    }
}

fn print_field(field: &Field, depth: usize) {
    let indent = "  ".repeat(depth);
    let name_width = 44usize.saturating_sub(indent.len());
    println!(
        "{indent}{:<6} {:<name_width$} {}",
        field.id, field.name, field.value
    );
    for child in &field.children {
        print_field(child, depth + 1);
    }
}
