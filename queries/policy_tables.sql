-- The policy annotation's tables, joined to issuances_base by issuances.sql. Prepare fills them by
-- evaluating the policy once per distinct request (profile, user, mode and time class) instead of
-- once per issuance: the decision depends on an issuance's time only through the time class
-- (policy.TimeClass: for each rule with a time condition, whether the time is in its window).
--
-- policy_minutes    the time class of every whole UTC minute an issuance in the window falls in,
--                   keyed by the minute's start (microseconds since the epoch). Time conditions
--                   read the wall clock to the minute, so the class holds for the whole minute...
-- policy_instants   ...except where a zone's offset is not whole minutes or changes within the
--                   minute (local mean time, before standard time: policy.MinuteSteady): those
--                   minutes are left out of policy_minutes and their issuances' own times are here.
-- policy_decisions  the policy's decision for each distinct request of the issuances in the
--                   window [since, until); rule NULL = no rule matched (default deny).
-- All three stay empty without a policy; policy_minutes and policy_instants stay empty when no
-- rule has a time condition (every issuance's time class is then '').
CREATE OR REPLACE TABLE policy_minutes (minute_us BIGINT PRIMARY KEY, time_class VARCHAR NOT NULL);
CREATE OR REPLACE TABLE policy_instants (at_us BIGINT PRIMARY KEY, time_class VARCHAR NOT NULL);
CREATE OR REPLACE TABLE policy_decisions (
    since TIMESTAMPTZ NOT NULL,
    until TIMESTAMPTZ NOT NULL,
    profile VARCHAR NOT NULL,
    "user" VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,
    time_class VARCHAR NOT NULL,
    policy_effect VARCHAR NOT NULL,
    policy_rule VARCHAR,
    policy_reason VARCHAR,
    policy_required BOOLEAN NOT NULL
);
-- The start of the UTC minute t falls in, in microseconds since the epoch (rounded down, before
-- 1970 too).
CREATE OR REPLACE MACRO policy_minute(t) AS epoch_us(t) - (epoch_us(t) % 60000000 + 60000000) % 60000000;
