//! `deadline_headers`: the timeout header codecs of `portcullis::deadline`.
//!
//! Properties: the decoders never panic; each returns exactly what an independent reading of the
//! documented grammar says (the value, or the first error in the documented order); an accepted
//! value re-encodes and decodes to at most itself, losing less than 10⁻⁵ of it (nothing below
//! 0.1 s for `grpc-timeout`; less than 1 ms for milliseconds); encoders refuse a zero (or
//! sub-millisecond) timeout with `Expired` and a short buffer with `BufferTooSmall { needed }`,
//! writing nothing then.
use crate::Bytes;
use portcullis::Nanos;
use portcullis::deadline::{
    GRPC_TIMEOUT_MAX_LEN, HeaderError, MILLIS_MAX_LEN, decode_grpc_timeout, decode_timeout_millis,
    encode_grpc_timeout, encode_timeout_millis,
};

/// `grpc-timeout` units and their length in nanoseconds.
const UNITS: [(u8, u64); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60_000_000_000),
    (b'H', 3_600_000_000_000),
];

/// Digits to a number, with the documented errors (`index` offset by `offset`).
fn digits(v: &[u8]) -> Result<u64, HeaderError> {
    let mut n: u64 = 0;
    for (index, &byte) in v.iter().enumerate() {
        if !byte.is_ascii_digit() {
            return Err(HeaderError::NotADigit { index, byte });
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(byte - b'0')))
            .ok_or(HeaderError::Overflow)?;
    }
    Ok(n)
}

/// The documented `grpc-timeout` grammar, checked in the documented order.
fn grpc_spec(v: &[u8]) -> Result<u64, HeaderError> {
    let Some((&unit, value)) = v.split_last() else { return Err(HeaderError::Empty) };
    if unit.is_ascii_digit() {
        return Err(HeaderError::MissingUnit);
    }
    let Some(&(_, ns)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(HeaderError::BadUnit { unit });
    };
    if value.is_empty() {
        return Err(HeaderError::MissingValue);
    }
    if value.len() > 8 {
        return Err(HeaderError::TooManyDigits { digits: value.len() });
    }
    digits(value)?.checked_mul(ns).ok_or(HeaderError::Overflow)
}

/// The documented milliseconds grammar.
fn millis_spec(v: &[u8]) -> Result<u64, HeaderError> {
    if v.is_empty() {
        return Err(HeaderError::Empty);
    }
    digits(v)?.checked_mul(1_000_000).ok_or(HeaderError::Overflow)
}

/// Encoding `ns` into a buffer of `len` bytes with `encode`: never panics, and a refusal writes
/// nothing. Returns the encoded bytes when it fit.
fn encode_checked(
    ns: u64,
    len: usize,
    max: usize,
    encode: fn(Nanos, &mut [u8]) -> Result<usize, HeaderError>,
) -> Result<Vec<u8>, HeaderError> {
    let mut buf = vec![0xEEu8; len];
    match encode(Nanos::new(ns), &mut buf) {
        Ok(n) => {
            assert!(n <= len && n <= max && n > 0, "wrote {n} bytes into {len}");
            assert!(buf[n..].iter().all(|&x| x == 0xEE), "wrote past its length");
            buf.truncate(n);
            Ok(buf)
        }
        Err(e) => {
            assert!(buf.iter().all(|&x| x == 0xEE), "a refused encode wrote {buf:?}");
            if let HeaderError::BufferTooSmall { needed } = e {
                assert!(needed > len && needed <= max, "needed {needed} for a buffer of {len}");
            }
            Err(e)
        }
    }
}

/// Re-encodes an accepted grpc value and checks the round trip and its rounding.
fn grpc_round_trip(ns: u64) {
    match encode_checked(ns, GRPC_TIMEOUT_MAX_LEN, GRPC_TIMEOUT_MAX_LEN, encode_grpc_timeout) {
        Err(e) => {
            assert_eq!(e, HeaderError::Expired, "encode {ns} ns");
            assert_eq!(ns, 0, "only a zero timeout is expired");
        }
        Ok(text) => {
            let back = decode_grpc_timeout(&text).expect("an encoded value decodes").as_u64();
            assert!(back <= ns, "{ns} ns encoded as {text:?} grew to {back}");
            let lost = ns - back;
            assert!(lost.saturating_mul(100_000) <= ns, "{ns} ns lost {lost} in {text:?}");
            if ns < 100_000_000 {
                assert_eq!(lost, 0, "below 0.1 s nothing is lost");
            }
        }
    }
}

/// Re-encodes an accepted milliseconds value.
fn millis_round_trip(ns: u64) {
    match encode_checked(ns, MILLIS_MAX_LEN, MILLIS_MAX_LEN, encode_timeout_millis) {
        Err(e) => {
            assert_eq!(e, HeaderError::Expired);
            assert!(ns < 1_000_000, "only below 1 ms is expired");
        }
        Ok(text) => {
            let back = decode_timeout_millis(&text).expect("an encoded value decodes").as_u64();
            assert!(back <= ns && ns - back < 1_000_000, "{ns} ns became {back}");
        }
    }
}

/// Runs one input: byte 0 picks decoding the rest as text, or encoding a number.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    match b.u8() % 3 {
        0 => {
            let text = b.rest();
            let got = decode_grpc_timeout(text).map(Nanos::as_u64);
            assert_eq!(got, grpc_spec(text), "grpc-timeout {text:?}");
            if let Ok(ns) = got {
                grpc_round_trip(ns);
            }
        }
        1 => {
            let text = b.rest();
            let got = decode_timeout_millis(text).map(Nanos::as_u64);
            assert_eq!(got, millis_spec(text), "millis {text:?}");
            if let Ok(ns) = got {
                millis_round_trip(ns);
            }
        }
        _ => {
            // Encoders on any value and any buffer length (short ones included).
            let ns = b.u64() >> (b.u8() % 64);
            let len = usize::from(b.u8() % 16);
            let _ = encode_checked(ns, len, GRPC_TIMEOUT_MAX_LEN, encode_grpc_timeout);
            let _ = encode_checked(ns, len, MILLIS_MAX_LEN, encode_timeout_millis);
            grpc_round_trip(ns);
            millis_round_trip(ns);
        }
    }
}
