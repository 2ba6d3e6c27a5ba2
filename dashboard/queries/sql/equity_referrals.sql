with

participant_months as (
    select * from participant_months
),

final as (
    select race, count(*) as referred
    from participant_months
    where months_since_referral = 0
      and month > $start
      and month <= $month
    group by race
)

select * from final
order by race
