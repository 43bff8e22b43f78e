//! loom models of the keyed table: concurrent first lookups of one key, of two keys racing for
//! one slot, and of two keys sharing a probe sequence.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p portcullis --release --test loom_keyed`
#![cfg(loom)]

use loom::thread;
use portcullis::bulkhead::Bulkhead;
use portcullis::keyed::{Keyed, Placement};
use std::sync::Arc;

/// The address of a key's primitive, comparable across threads.
fn addr(b: &Bulkhead) -> usize {
    std::ptr::from_ref(b) as usize
}

/// Two threads look up the same new key at once: exactly one inserts, both get the same slot,
/// and the table holds the key once.
#[test]
fn two_threads_inserting_one_key_create_one_entry() {
    loom::model(|| {
        let t = Arc::new(Keyed::<Bulkhead, 2>::bulkheads(2, 1).unwrap());
        let other = {
            let t = Arc::clone(&t);
            thread::spawn(move || {
                let e = t.entry(42);
                (e.placement(), addr(e.get()))
            })
        };
        let e = t.entry(42);
        let (mine, here) = (e.placement(), addr(e.get()));
        let (theirs, there) = other.join().unwrap();
        assert_eq!(here, there, "both threads use one primitive");
        let inserted = [mine, theirs].iter().filter(|p| **p == Placement::Inserted).count();
        assert_eq!(inserted, 1, "{mine:?} / {theirs:?}");
        assert!(![mine, theirs].contains(&Placement::Overflow));
        assert_eq!(t.iter().filter(|(k, _)| *k == 42).count(), 1);
        assert_eq!(t.snapshot().occupied, 1);
    });
}

/// Two keys race for the only slot of a table of one: one owns it, the other gets the overflow
/// entry; the winner's later lookups find its slot.
#[test]
fn two_keys_racing_for_one_slot_never_share_it() {
    loom::model(|| {
        let t = Arc::new(Keyed::<Bulkhead, 1>::bulkheads(1, 1).unwrap());
        let other = {
            let t = Arc::clone(&t);
            thread::spawn(move || t.entry(2).placement())
        };
        let mine = t.entry(1).placement();
        let theirs = other.join().unwrap();
        let mut outcomes = [mine, theirs];
        outcomes.sort_by_key(|p| *p == Placement::Overflow);
        assert_eq!(outcomes, [Placement::Inserted, Placement::Overflow]);
        let winner = if mine == Placement::Inserted { 1 } else { 2 };
        assert_eq!(t.entry(winner).placement(), Placement::Existing);
        assert_eq!(t.snapshot().overflows, 1);
    });
}

/// Two keys with the same probe sequence in a table of two both get a slot of their own,
/// whichever claims first (the loser of the first slot's CAS moves on to the second).
#[test]
fn two_keys_sharing_a_home_get_two_slots() {
    loom::model(|| {
        let t = Arc::new(Keyed::<Bulkhead, 2>::bulkheads(2, 1).unwrap());
        // Keys 1.. in a table of 2: pick two with one home.
        let home = Keyed::<Bulkhead, 2>::home_slot(1);
        let k2 = (2..).find(|k| Keyed::<Bulkhead, 2>::home_slot(*k) == home).unwrap();
        let other = {
            let t = Arc::clone(&t);
            thread::spawn(move || addr(t.entry(k2).get()))
        };
        let a = t.entry(1);
        assert_eq!(a.placement(), Placement::Inserted);
        let b = other.join().unwrap();
        assert_ne!(addr(a.get()), b);
        assert_eq!(t.snapshot().occupied, 2);
        assert_eq!(t.snapshot().overflows, 0);
    });
}
