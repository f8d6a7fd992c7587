-- The Learner DNA domain: who belongs where, what learners did, what was derived from
-- it, and what consent allows. Every table carries tenant_id, and every query path is
-- indexed. Times are milliseconds since the Unix epoch; dates are ISO 8601 text.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL
);
CREATE INDEX schools_by_tenant ON schools (tenant_id);

-- Teachers and tenant administrators. `subject` links a sign-in account.
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    school_id TEXT REFERENCES schools (id),
    role TEXT NOT NULL CHECK (role IN ('teacher', 'admin')),
    display_name TEXT NOT NULL,
    email TEXT,
    subject TEXT UNIQUE
);
CREATE INDEX staff_by_tenant ON staff (tenant_id, role);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    name TEXT NOT NULL,
    subject_area TEXT NOT NULL,
    grade INTEGER NOT NULL
);
CREATE INDEX classes_by_tenant ON classes (tenant_id, school_id);

CREATE TABLE class_teachers (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    class_id TEXT NOT NULL REFERENCES classes (id),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    PRIMARY KEY (class_id, staff_id)
);
CREATE INDEX class_teachers_by_staff ON class_teachers (staff_id, class_id);

CREATE TABLE learners (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    email TEXT,
    birth_date TEXT NOT NULL,
    subject TEXT UNIQUE
);
CREATE INDEX learners_by_tenant ON learners (tenant_id, school_id);

-- A learner in a class from starts_on until ends_on (open when NULL).
CREATE TABLE enrollments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    class_id TEXT NOT NULL REFERENCES classes (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    starts_on TEXT NOT NULL,
    ends_on TEXT
);
CREATE INDEX enrollments_by_class ON enrollments (class_id, learner_id);
CREATE INDEX enrollments_by_learner ON enrollments (learner_id, class_id);

CREATE TABLE guardians (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    display_name TEXT NOT NULL,
    email TEXT,
    subject TEXT UNIQUE
);
CREATE INDEX guardians_by_tenant ON guardians (tenant_id);

CREATE TABLE guardianships (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    guardian_id TEXT NOT NULL REFERENCES guardians (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    relationship TEXT NOT NULL,
    PRIMARY KEY (guardian_id, learner_id)
);
CREATE INDEX guardianships_by_learner ON guardianships (learner_id, guardian_id);

-- What a learner did in a learning session.
CREATE TABLE learning_events (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    class_id TEXT REFERENCES classes (id),
    session_id TEXT NOT NULL,
    concept TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('attempt', 'hint', 'review', 'assessment')),
    correct INTEGER,
    -- The misconception a wrong answer showed, when the activity could tell.
    misconception TEXT,
    response_ms INTEGER,
    occurred_at_ms INTEGER NOT NULL
);
CREATE INDEX learning_events_by_learner ON learning_events (learner_id, occurred_at_ms);
CREATE INDEX learning_events_by_class ON learning_events (class_id, concept, occurred_at_ms);

-- Derived Learner DNA: one row per learner and trait (learning_velocity,
-- retention_curve, interaction_timing, comprehension_style, engagement), the value as
-- JSON, with its confidence, the events it rests on and when it was computed.
CREATE TABLE dna_traits (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    trait TEXT NOT NULL CHECK (trait IN ('learning_velocity', 'retention_curve',
        'interaction_timing', 'comprehension_style', 'engagement')),
    value_json TEXT NOT NULL,
    confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    sample_count INTEGER NOT NULL,
    computed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (learner_id, trait)
);

CREATE TABLE concept_mastery (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    concept TEXT NOT NULL,
    mastery REAL NOT NULL CHECK (mastery BETWEEN 0 AND 1),
    confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    sample_count INTEGER NOT NULL,
    computed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (learner_id, concept)
);

-- Struggle patterns: misconceptions per concept.
CREATE TABLE struggles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    concept TEXT NOT NULL,
    misconception TEXT NOT NULL,
    frequency REAL NOT NULL CHECK (frequency BETWEEN 0 AND 1),
    confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    sample_count INTEGER NOT NULL,
    computed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (learner_id, concept, misconception)
);
CREATE INDEX struggles_by_concept ON struggles (tenant_id, concept);

-- Consent: for a learner and a data category, to one client (or any when NULL), who
-- granted it and how that was verified, when granted and when withdrawn, under which
-- policy version.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    learner_id TEXT NOT NULL REFERENCES learners (id),
    data_category TEXT NOT NULL,
    recipient_client_id TEXT,
    granted_by TEXT NOT NULL,
    verification_method TEXT NOT NULL,
    granted_at_ms INTEGER NOT NULL,
    withdrawn_at_ms INTEGER,
    policy_version TEXT NOT NULL
);
CREATE INDEX consents_by_learner ON consents (learner_id, data_category, withdrawn_at_ms);
