//! The port contract (`learner_conformance::contract`) over HTTP, against the host at
//! `LEARNER_BASE_URL`.

learner_conformance::port_contract!(learner_conformance::contract::over_http);
