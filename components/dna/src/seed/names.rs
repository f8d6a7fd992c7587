//! The generator's random sequence and the tables it draws from: given and family
//! names, and the curriculum of subject areas, concepts and misconceptions.

/// SplitMix64: a small, well-mixed deterministic sequence (not for secrets).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    /// The next number of the sequence.
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Uniform in 0..1.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// One of `items`, uniformly.
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Given names.
pub(super) const GIVEN: [&str; 16] = [
    "Ava", "Ben", "Chloe", "Dev", "Ema", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena",
    "Milo", "Nia", "Omar", "Pia",
];
/// Family names (also the schools').
pub(super) const FAMILY: [&str; 12] = [
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
    "Kowalski", "Novak",
];
/// A concept and two misconceptions learners commonly show on it.
type Concept = (&'static str, [&'static str; 2]);

/// Subject areas, their concepts, and each concept's common misconceptions.
pub(super) const CURRICULUM: [(&str, [Concept; 3]); 3] = [
    (
        "math",
        [
            (
                "fractions",
                ["adds-denominators", "larger-denominator-is-larger"],
            ),
            ("negative-numbers", ["sign-error", "subtracts-magnitudes"]),
            (
                "linear-equations",
                ["moves-term-without-sign-change", "divides-one-side"],
            ),
        ],
    ),
    (
        "reading",
        [
            ("inference", ["literal-only", "ignores-context"]),
            ("main-idea", ["picks-detail", "picks-first-sentence"]),
            ("vocabulary", ["confuses-homophones", "root-misread"]),
        ],
    ),
    (
        "science",
        [
            ("photosynthesis", ["plants-eat-soil", "light-as-food"]),
            ("forces", ["motion-needs-force", "heavier-falls-faster"]),
            (
                "states-of-matter",
                ["mass-lost-in-melting", "gas-has-no-mass"],
            ),
        ],
    ),
];
