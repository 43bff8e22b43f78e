//! Named bit fields of packed 64-bit state words.
//!
//! A [`Field`] is a `(shift, width)` pair with `const` accessors, so that a packed word reads like
//! its layout comment and the layout is checked at compile time (`Field::disjoint`).

/// A run of `width` bits starting at bit `shift` of a `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    shift: u32,
    width: u32,
}

impl Field {
    /// The field of `width` bits at `shift`. Checked at compile time where used in a `const`.
    pub(crate) const fn new(shift: u32, width: u32) -> Field {
        assert!(width > 0 && width < 64 && shift + width <= 64, "field does not fit in a u64");
        Field { shift, width }
    }

    /// The largest value the field holds.
    pub(crate) const fn max(self) -> u64 {
        (1u64 << self.width) - 1
    }

    /// The field's bits in place.
    pub(crate) const fn mask(self) -> u64 {
        self.max() << self.shift
    }

    /// The field's value in `word`.
    pub(crate) const fn get(self, word: u64) -> u64 {
        (word >> self.shift) & self.max()
    }

    /// `value` (truncated to the field) placed at the field's position, other bits zero.
    pub(crate) const fn place(self, value: u64) -> u64 {
        (value & self.max()) << self.shift
    }

    /// `word` with the field replaced by `value` (truncated to the field).
    pub(crate) const fn set(self, word: u64, value: u64) -> u64 {
        (word & !self.mask()) | self.place(value)
    }

    /// One unit of the field, for adding to a packed word.
    pub(crate) const fn one(self) -> u64 {
        1u64 << self.shift
    }

    /// Whether no two of `fields` share a bit.
    #[allow(clippy::indexing_slicing, reason = "i < fields.len() by the loop condition")]
    pub(crate) const fn disjoint(fields: &[Field]) -> bool {
        let mut seen = 0u64;
        let mut i = 0;
        while i < fields.len() {
            let m = fields[i].mask();
            if seen & m != 0 {
                return false;
            }
            seen |= m;
            i += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn get_set_round_trip() {
        const A: Field = Field::new(0, 20);
        const B: Field = Field::new(20, 44);
        const { assert!(Field::disjoint(&[A, B])) };
        assert!(!Field::disjoint(&[A, Field::new(19, 2)]));
        let w = B.set(A.set(0, 12_345), 7);
        assert_eq!(A.get(w), 12_345);
        assert_eq!(B.get(w), 7);
        assert_eq!(A.get(A.set(w, A.max() + 1)), 0, "values are truncated to the field");
        assert_eq!(B.get(w), 7, "setting A leaves B alone");
        assert_eq!(A.one() + A.place(1), 2);
        assert_eq!(B.mask() | A.mask(), u64::MAX);
    }
}
