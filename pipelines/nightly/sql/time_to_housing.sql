-- Time to first permanent housing, one row per participant (the Cohorts page's survival curve).
-- Time runs from the referral date. The event is the first housing assessment in a permanent
-- living situation (HMIS 4xx) dated on or after 30 days before referral; one in those 30 days
-- counts as day 0. A participant not yet housed is censored at exit or at the as-of date,
-- whichever comes first; a first permanent assessment after exit is censored at exit.
with

release as (
    select as_of from release
),

participants as (
    select * from participants
),

permanent as (
    select h.site_id, h.participant_id, h.assessed_on
    from housing as h
    inner join living_situations as ls on h.living_situation = ls.living_situation
    where ls.category = 'permanent'
),

first_permanent as (
    select p.site_id, p.participant_id, min(h.assessed_on) as housed_on
    from participants as p
    inner join permanent as h on h.site_id = p.site_id and h.participant_id = p.participant_id
    where h.assessed_on >= p.referral_date - 30
    group by p.site_id, p.participant_id
),

followed as (
    select
        p.site_id,
        p.participant_id,
        p.referral_type,
        p.referral_date,
        f.housed_on,
        least(coalesce(p.exit_date, r.as_of), r.as_of) as followed_until
    from participants as p
    cross join release as r
    left join first_permanent as f on f.site_id = p.site_id and f.participant_id = p.participant_id
),

final as (
    select
        *,
        greatest(
            0,
            datediff('day', referral_date, case
                when housed_on <= followed_until then housed_on
                else followed_until
            end)
        )::bigint as days,
        coalesce(housed_on <= followed_until, false) as housed
    from followed
)

select * from final
