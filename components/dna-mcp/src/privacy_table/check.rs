//! The table of what each requester may see of each learner, and the checks of one
//! cell: the five reads of that learner, as they go on the wire, against what the cell
//! expects.

use std::collections::BTreeSet;

use learner_dna::privacy::{Category, Denial};
use learner_dna::service::Failure;
use learner_mcp_server::jsonrpc::RpcError;
use serde_json::{Value, json};

use crate::ACCESS_DENIED;

/// What a requester may see of a learner: the categories, or the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expect {
    Sees(&'static str),
    NotVisible,
    Coppa,
    NothingConsented,
    AggregatesOnly,
}
use Expect::{AggregatesOnly, Coppa, NotVisible, NothingConsented, Sees};

/// The learners of `grid`'s header, and per row its requester's name and what it
/// expects of each of those learners.
pub(super) type Grid = (Vec<&'static str>, Vec<(&'static str, Vec<Expect>)>);

/// Reads a table of one header line (the learners) and one line per requester (its
/// name, then per learner the categories it sees — `P`rofile, `B`ehavioral,
/// `A`ssessment, `S`truggles, `I`dentity — or why it sees nothing: `-` not visible,
/// `coppa`, `none` consented, `agg`regates only).
pub(super) fn grid(table: &'static str) -> Grid {
    let mut lines = table.lines().filter(|line| !line.trim().is_empty());
    let learners: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    let rows = lines
        .map(|line| {
            let mut cells = line.split_whitespace();
            let who = cells.next().expect("a requester");
            let row: Vec<Expect> = cells
                .map(|cell| match cell {
                    "-" => NotVisible,
                    "coppa" => Coppa,
                    "none" => NothingConsented,
                    "agg" => AggregatesOnly,
                    letters => Sees(letters),
                })
                .collect();
            assert_eq!(row.len(), learners.len(), "{who}: one cell per learner");
            (who, row)
        })
        .collect();
    (learners, rows)
}

fn categories(letters: &str) -> BTreeSet<Category> {
    letters
        .chars()
        .map(|c| match c {
            'P' => Category::Profile,
            'B' => Category::Behavioral,
            'A' => Category::Assessment,
            'S' => Category::Struggles,
            'I' => Category::Identity,
            other => panic!("{other}"),
        })
        .collect()
}

fn traits_for(seen: &BTreeSet<Category>) -> BTreeSet<String> {
    let mut traits = BTreeSet::new();
    if seen.contains(&Category::Profile) {
        traits.extend(
            [
                "learning_velocity",
                "retention_curve",
                "comprehension_style",
            ]
            .map(String::from),
        );
    }
    if seen.contains(&Category::Behavioral) {
        traits.extend(["interaction_timing", "engagement"].map(String::from));
    }
    traits
}

/// The keys of an object (none of anything else).
pub(super) fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// A resource read as it goes on the wire: its contents, `None` when not found.
pub(super) type Wire = Result<Option<Vec<Value>>, RpcError>;

/// The five reads of one learner by one requester.
pub(super) struct Reads {
    pub profile: Wire,
    pub struggles: Wire,
    pub mastery: Wire,
    pub dna: Result<Value, Failure>,
    pub steps: Result<Value, Failure>,
}

fn body_of(contents: Option<Vec<Value>>) -> Value {
    let text = contents.expect("found")[0]["text"]
        .as_str()
        .expect("text")
        .to_owned();
    serde_json::from_str(&text).expect("JSON")
}

impl Reads {
    /// Checks the reads against `expect`. `listed` is the requester's list of
    /// learners, `learner` the record id and `pseudonym` the id the requester knows.
    pub fn check(
        self,
        context: &str,
        expect: &Expect,
        listed: &[Value],
        learner: &str,
        pseudonym: &str,
    ) {
        match expect {
            Sees(letters) => self.seen(context, letters, listed, learner, pseudonym),
            NotVisible => self.not_visible(context),
            Coppa => self.refused(context, Denial::NoParentalConsent.reason()),
            NothingConsented => self.refused(context, Denial::NothingConsented.reason()),
            AggregatesOnly => self.refused(context, Denial::AggregatesOnly.reason()),
        }
    }

    /// Exactly the fields of the categories in `letters`, nothing else.
    fn seen(self, context: &str, letters: &str, listed: &[Value], learner: &str, pseudonym: &str) {
        let Self {
            profile,
            struggles,
            mastery,
            dna,
            steps,
        } = self;
        let seen = categories(letters);
        let traits = traits_for(&seen);
        match profile {
            Ok(contents) if !traits.is_empty() => {
                let body = body_of(contents);
                assert_eq!(keys(&body["traits"]), traits, "{context}: profile traits");
                assert_eq!(body["learner"], json!(pseudonym));
            }
            Err(e) if traits.is_empty() => {
                assert_eq!(e.code, ACCESS_DENIED, "{context}");
            }
            other => panic!("{context}: profile {other:?}"),
        }
        for (result, category) in [
            (&struggles, Category::Struggles),
            (&mastery, Category::Assessment),
        ] {
            match result {
                Ok(contents) if seen.contains(&category) => {
                    let body = body_of(contents.clone());
                    assert_eq!(
                        keys(&body),
                        BTreeSet::from([
                            "learner".to_owned(),
                            if category == Category::Struggles {
                                "struggles"
                            } else {
                                "mastery"
                            }
                            .to_owned(),
                            "withheld".to_owned()
                        ]),
                        "{context}"
                    );
                }
                Err(e) if !seen.contains(&category) => {
                    assert_eq!(e.code, ACCESS_DENIED, "{context}");
                    assert!(
                        e.message.contains(category.consent_name()),
                        "{context}: {}",
                        e.message
                    );
                }
                other => panic!("{context}: {category:?} {other:?}"),
            }
        }
        let dna = dna.expect("DNA");
        let mut expected = BTreeSet::from(["learner".to_owned()]);
        if !traits.is_empty() {
            expected.insert("traits".into());
        }
        if seen.contains(&Category::Assessment) {
            expected.insert("mastery".into());
        }
        if seen.contains(&Category::Struggles) {
            expected.insert("struggles".into());
        }
        if seen.contains(&Category::Identity) {
            expected.insert("identity".into());
        }
        assert_eq!(keys(&dna), expected, "{context}: DNA fields");
        // Names and emails only with identity; never the record id.
        let text = dna.to_string();
        assert_eq!(
            text.contains(&format!("Given{learner}")),
            seen.contains(&Category::Identity),
            "{context}"
        );
        assert!(
            !text.contains(&format!("\"{learner}\"")),
            "{context}: the record id leaked"
        );
        let listed_entry = listed
            .iter()
            .find(|l| l["id"] == json!(pseudonym))
            .expect("listed");
        assert_eq!(
            listed_entry.get("name").is_some(),
            seen.contains(&Category::Identity),
            "{context}"
        );
        match steps {
            Ok(body) => assert!(
                seen.contains(&Category::Assessment) || seen.contains(&Category::Struggles),
                "{context}: {body}"
            ),
            Err(Failure::Refused(_)) => assert!(
                !seen.contains(&Category::Assessment) && !seen.contains(&Category::Struggles),
                "{context}"
            ),
            Err(other) => panic!("{context}: {other:?}"),
        }
    }

    /// Not found, as if the learner did not exist.
    fn not_visible(self, context: &str) {
        for result in [&self.profile, &self.struggles, &self.mastery] {
            assert_eq!(result, &Ok(None), "{context}: not found");
        }
        let dna = self.dna;
        assert!(
            matches!(dna, Err(Failure::NotFound(_))),
            "{context}: {dna:?}"
        );
        assert!(matches!(self.steps, Err(Failure::NotFound(_))), "{context}");
    }

    /// Refused everywhere, for `reason`.
    fn refused(self, context: &str, reason: &str) {
        for result in [&self.profile, &self.struggles, &self.mastery] {
            let error = result.as_ref().expect_err("refused");
            assert_eq!(error.code, ACCESS_DENIED, "{context}");
            assert_eq!(error.data, Some(json!({"reason": reason})), "{context}");
        }
        assert_eq!(self.dna, Err(Failure::Refused(reason.into())), "{context}");
        assert_eq!(
            self.steps,
            Err(Failure::Refused(reason.into())),
            "{context}"
        );
    }
}
