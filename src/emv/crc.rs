//! The checksum of an EMV MPM payload: CRC-16/CCITT-FALSE (polynomial 0x1021, initial value
//! 0xFFFF, no reflection), computed over everything up to and including the `6304` that
//! introduces it, written as four upper-case hex digits.

use crc::{Crc, CRC_16_IBM_3740};

/// CRC-16/IBM-3740 is the catalogue name of CRC-16/CCITT-FALSE.
const CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

pub fn checksum(data: &str) -> u16 {
    CCITT_FALSE.checksum(data.as_bytes())
}

/// The four hex digits to append after `6304`.
pub fn checksum_hex(data: &str) -> String {
    format!("{:04X}", checksum(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_the_standard_test_string() {
        assert_eq!(checksum_hex("123456789"), "29B1");
    }
}
