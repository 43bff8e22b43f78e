//! Deadlines: header round trips (`grpc-timeout` and milliseconds), a table of malformed inputs
//! each with its exact error, and the arithmetic of remaining time, child deadlines, splits and
//! the retry rule against their definitions.
#![cfg(not(loom))]

use portcullis::Nanos;
use portcullis::deadline::{
    Deadline, GRPC_TIMEOUT_MAX_LEN, HeaderError, MILLIS_MAX_LEN, Remaining, RetryDelay,
    decode_grpc_timeout, decode_timeout_millis, encode_grpc_timeout, encode_timeout_millis,
};
use proptest::prelude::*;

/// Case count: `PROPTEST_CASES` when set (CI sizes it), else 256.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

const UNITS: [(u8, u64); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60_000_000_000),
    (b'H', 3_600_000_000_000),
];

/// Durations over every order of magnitude of a u64.
fn duration() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..1_000,
        (0u32..64, any::<u64>()).prop_map(|(bits, r)| if bits == 0 {
            1
        } else {
            (1u64 << bits) | (r >> (64 - bits))
        }),
        Just(u64::MAX),
        Just(99_999_999),
        Just(100_000_000),
    ]
}

#[test]
fn malformed_grpc_timeouts_each_have_their_error() {
    let table: &[(&[u8], HeaderError)] = &[
        (b"", HeaderError::Empty),
        (b"1", HeaderError::MissingUnit),
        (b"100", HeaderError::MissingUnit),
        (b"m", HeaderError::MissingValue),
        (b"H", HeaderError::MissingValue),
        (b"1s", HeaderError::BadUnit { unit: b's' }),
        (b"1h", HeaderError::BadUnit { unit: b'h' }),
        (b"10ms", HeaderError::BadUnit { unit: b's' }),
        (b"1 ", HeaderError::BadUnit { unit: b' ' }),
        (b"123456789S", HeaderError::TooManyDigits { digits: 9 }),
        (b"000000001n", HeaderError::TooManyDigits { digits: 9 }),
        (b"-1S", HeaderError::NotADigit { index: 0, byte: b'-' }),
        (b"+1S", HeaderError::NotADigit { index: 0, byte: b'+' }),
        (b" 1S", HeaderError::NotADigit { index: 0, byte: b' ' }),
        (b"1.5S", HeaderError::NotADigit { index: 1, byte: b'.' }),
        (b"1 S", HeaderError::NotADigit { index: 1, byte: b' ' }),
        (b"12x4m", HeaderError::NotADigit { index: 2, byte: b'x' }),
        (b"5124096H", HeaderError::Overflow),
        (b"99999999H", HeaderError::Overflow),
    ];
    for (input, err) in table {
        assert_eq!(decode_grpc_timeout(input), Err(*err), "{:?}", String::from_utf8_lossy(input));
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn malformed_millis_each_have_their_error() {
    let table: &[(&[u8], HeaderError)] = &[
        (b"", HeaderError::Empty),
        (b"-1", HeaderError::NotADigit { index: 0, byte: b'-' }),
        (b"1.5", HeaderError::NotADigit { index: 1, byte: b'.' }),
        (b"100ms", HeaderError::NotADigit { index: 3, byte: b'm' }),
        (b" 100", HeaderError::NotADigit { index: 0, byte: b' ' }),
        (b"18446744073710", HeaderError::Overflow),
        (b"18446744073709551616", HeaderError::Overflow),
    ];
    for (input, err) in table {
        assert_eq!(decode_timeout_millis(input), Err(*err), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn every_unit_decodes() {
    for (u, ns) in UNITS {
        assert_eq!(decode_grpc_timeout(&[b'7', u]), Ok(Nanos::new(7 * ns)));
        assert_eq!(
            decode_grpc_timeout(&[b'9', b'9', b'9', b'9', b'9', b'9', b'9', b'9', u])
                .map(Nanos::as_u64),
            99_999_999u64.checked_mul(ns).ok_or(HeaderError::Overflow)
        );
    }
}

proptest! {
    #![proptest_config(config())]

    /// Encode then decode never gives more time than was encoded, and loses less than one unit of
    /// the chosen (finest fitting) unit: below 10⁻⁵ of the timeout, nothing below 0.1 s.
    #[test]
    fn grpc_round_trip_rounds_down_finely(t in duration()) {
        let mut buf = [0u8; GRPC_TIMEOUT_MAX_LEN];
        let n = encode_grpc_timeout(Nanos::new(t), &mut buf).unwrap();
        prop_assert!((2..=GRPC_TIMEOUT_MAX_LEN).contains(&n));
        let value = &buf[..n];
        prop_assert!(value[..n - 1].iter().all(u8::is_ascii_digit));
        prop_assert!(value[0] != b'0', "no leading zero");
        let back = decode_grpc_timeout(value).unwrap().as_u64();
        prop_assert!(back <= t);
        let unit = UNITS.iter().find(|(u, _)| *u == value[n - 1]).unwrap().1;
        prop_assert!(t - back < unit);
        prop_assert!(u128::from(t - back) * 100_000 <= u128::from(t));
        if t < 100_000_000 { prop_assert_eq!(back, t); }
        // The finest unit: the next finer one would need 9 digits.
        if let Some(i) = UNITS.iter().position(|(_, ns)| *ns == unit).filter(|&i| i > 0) {
            prop_assert!(t / UNITS[i - 1].1 > 99_999_999);
        }
        // Re-encoding the decoded value is stable.
        let mut again = [0u8; GRPC_TIMEOUT_MAX_LEN];
        let m = encode_grpc_timeout(Nanos::new(back), &mut again).unwrap();
        prop_assert_eq!(&again[..m], value);
    }

    /// Any well-formed value decodes to digits × unit (or Overflow), and short buffers are refused.
    #[test]
    fn grpc_decodes_its_grammar(v in 0u64..=99_999_999, unit in 0usize..6, short in 0usize..9) {
        let (u, ns) = UNITS[unit];
        let s = format!("{v}{}", u as char);
        let expected = v.checked_mul(ns).ok_or(HeaderError::Overflow);
        prop_assert_eq!(decode_grpc_timeout(s.as_bytes()).map(Nanos::as_u64), expected);
        if v > 0 && v.checked_mul(ns).is_some() {
            let mut buf = [0u8; GRPC_TIMEOUT_MAX_LEN];
            let n = encode_grpc_timeout(Nanos::new(v * ns), &mut buf).unwrap();
            if short < n {
                let mut small = vec![0u8; short];
                let got = encode_grpc_timeout(Nanos::new(v * ns), &mut small);
                prop_assert_eq!(got, Err(HeaderError::BufferTooSmall { needed: n }));
                prop_assert!(small.iter().all(|&b| b == 0), "nothing written");
            }
        }
    }

    #[test]
    fn millis_round_trip(t in duration()) {
        let mut buf = [0u8; MILLIS_MAX_LEN];
        match encode_timeout_millis(Nanos::new(t), &mut buf) {
            Ok(n) => {
                prop_assert!(t >= 1_000_000);
                let back = decode_timeout_millis(&buf[..n]).unwrap().as_u64();
                prop_assert_eq!(back, t / 1_000_000 * 1_000_000);
            }
            Err(e) => {
                prop_assert_eq!(e, HeaderError::Expired);
                prop_assert!(t < 1_000_000);
            }
        }
    }

    /// Remaining, child, split, next hop and the retry rule against their definitions.
    #[test]
    fn deadline_arithmetic(
        at in duration(),
        now in duration(),
        reserve in duration(),
        hops in 0u32..10,
        delay in duration(),
        min in 0u64..1_000_000,
    ) {
        let d = Deadline::at(Nanos::new(at));
        let rem = d.remaining(Nanos::new(now));
        if now < at {
            prop_assert_eq!(rem, Remaining::Left(Nanos::new(at - now)));
        } else {
            prop_assert_eq!(rem, Remaining::Expired);
        }
        let child = d.child(Nanos::new(reserve));
        if at == u64::MAX {
            prop_assert_eq!(child, Deadline::NEVER);
        } else {
            prop_assert_eq!(child.instant().as_u64(), at.saturating_sub(reserve));
        }
        prop_assert!(child <= d);
        let h = u64::from(hops.max(1));
        match d.split(Nanos::new(now), hops) {
            Remaining::Left(s) => {
                prop_assert_eq!(s.as_u64(), (at - now) / h);
                prop_assert!(s.as_u64() > 0);
                prop_assert!(d.next_hop(Nanos::new(now), hops) <= d);
            }
            Remaining::Expired => prop_assert!(now >= at || (at - now) / h == 0),
        }
        let start = u128::from(now) + u128::from(delay);
        let ok = start < u128::from(at) && u128::from(at) - start >= u128::from(min.max(1));
        let expect = if ok { RetryDelay::After(Nanos::new(delay)) } else { RetryDelay::GiveUp };
        prop_assert_eq!(d.retry_after(Nanos::new(now), Nanos::new(delay), Nanos::new(min)), expect);
    }
}
