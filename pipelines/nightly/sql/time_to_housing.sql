-- Time to permanent housing, one row per participant (the Cohorts page's survival curve).
-- Status at referral: the latest housing assessment dated on or before the referral date and no
-- more than 182 days before it (pipelines.core.metrics.STATUS_WINDOW_DAYS; unknown otherwise).
-- A participant whose status at referral is permanent (HMIS 4xx) is already housed: counted
-- (housed_at_referral), left out of the curve (days and housed are null). For everyone else time
-- runs from the referral date, and the event is a move into permanent housing: the first
-- assessment in a permanent living situation dated after the referral date. A participant not yet
-- housed is censored at exit or at the as-of date, whichever comes first; a first permanent
-- assessment after exit is censored at exit.
with

release as (
    select as_of from release
),

participants as (
    select * from participants
),

assessments as (
    select h.site_id, h.participant_id, h.assessed_on, h.living_situation, ls.category
    from housing as h
    left join living_situations as ls on h.living_situation = ls.living_situation
),

status_at_referral as (
    select
        p.site_id,
        p.participant_id,
        arg_max(a.living_situation, a.assessed_on) as living_situation,
        arg_max(a.category, a.assessed_on) as category
    from participants as p
    inner join assessments as a on a.site_id = p.site_id and a.participant_id = p.participant_id
    where a.assessed_on <= p.referral_date
      and a.assessed_on >= p.referral_date - 182
    group by p.site_id, p.participant_id
),

first_permanent_after as (
    select p.site_id, p.participant_id, min(a.assessed_on) as housed_on
    from participants as p
    inner join assessments as a on a.site_id = p.site_id and a.participant_id = p.participant_id
    where a.category = 'permanent'
      and a.assessed_on > p.referral_date
    group by p.site_id, p.participant_id
),

followed as (
    select
        p.site_id,
        p.participant_id,
        p.referral_type,
        p.referral_date,
        s.living_situation as status_at_referral,
        coalesce(s.category = 'permanent', false) as housed_at_referral,
        f.housed_on,
        least(coalesce(p.exit_date, r.as_of), r.as_of) as followed_until
    from participants as p
    cross join release as r
    left join status_at_referral as s on s.site_id = p.site_id and s.participant_id = p.participant_id
    left join first_permanent_after as f on f.site_id = p.site_id and f.participant_id = p.participant_id
),

final as (
    select
        *,
        case when not housed_at_referral then
            greatest(
                0,
                datediff('day', referral_date, case
                    when housed_on <= followed_until then housed_on
                    else followed_until
                end)
            )::bigint
        end as days,
        case when not housed_at_referral then coalesce(housed_on <= followed_until, false) end as housed
    from followed
)

select * from final
