with

participants as (
    select * from participants
),

final as (
    select distinct referral_type, site_id
    from participants
)

select * from final
