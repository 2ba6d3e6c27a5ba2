with

participants as (
    select * from participants
),

justice as (
    select * from justice
),

sites as (
    select distinct site_id from participants
),

justice_sites as (
    select distinct site_id from justice
),

followed as (
    select count(*) as followed
    from participants
    where site_id in (select site_id from justice_sites)
      and referral_date + to_months($months) <= $as_of
),

final as (
    select
        s.site_id,
        s.site_id in (select site_id from justice_sites) as has_justice,
        (select followed from followed) as followed
    from sites as s
)

select * from final
order by site_id
