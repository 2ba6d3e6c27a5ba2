-- Which sites the before-and-after comparison counts: every site with participants, whether it
-- sends justice records (a justice export in force, or justice rows), and whether its justice
-- export carries release_date, so that its bookings report custody (contract v2).
with

participant_sites as (
    select distinct site_id from participants
),

justice_sites as (
    select site_id from export_columns where table_name = 'justice'
    union
    select site_id from justice
),

custody_sites as (
    select distinct site_id
    from export_columns
    where table_name = 'justice' and column_name = 'release_date'
),

final as (
    select
        s.site_id,
        s.site_id in (select site_id from justice_sites) as sends_justice,
        s.site_id in (select site_id from custody_sites) as reports_custody,
    from participant_sites as s
)

select * from final
order by site_id
