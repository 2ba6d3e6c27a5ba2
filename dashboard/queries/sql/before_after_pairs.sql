with

participants as (
    select * from participants
),

justice as (
    select * from justice
),

justice_sites as (
    select distinct site_id from justice
),

followed as (
    select site_id, participant_id, referral_type, referral_date
    from participants
    where site_id in (select site_id from justice_sites)
      and referral_date + to_months($months) <= $as_of
),

arrests as (
    select site_id, participant_id, event_date
    from justice
    where event_type = 'arrest'
),

per_participant as (
    select
        f.referral_type,
        coalesce(bool_or(
            a.event_date >= f.referral_date - to_months($months) and a.event_date < f.referral_date
        ), false) as before,
        coalesce(bool_or(
            a.event_date >= f.referral_date and a.event_date < f.referral_date + to_months($months)
        ), false) as after,
    from followed as f
    left join arrests as a
        on a.site_id = f.site_id
        and a.participant_id = f.participant_id
        and a.event_date >= f.referral_date - to_months($months)
        and a.event_date < f.referral_date + to_months($months)
    group by f.site_id, f.participant_id, f.referral_type
),

final as (
    select
        coalesce(referral_type, 'all') as referral_type,
        count(*) as participants,
        count_if(before and after) as both,
        count_if(before and not after) as before_only,
        count_if(after and not before) as after_only,
        count_if(not before and not after) as neither,
    from per_participant
    group by grouping sets ((), (referral_type))
)

select * from final
