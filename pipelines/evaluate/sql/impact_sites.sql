-- Which sites the impact evaluation can use (issue 14): every site that has participants or
-- sends a comparison table, with what it sends. A site sends a table when an export of it is in
-- force (export_columns) or the release holds rows of it. The evaluation uses the sites that send
-- the comparison group (comparison), its justice records (comparison_justice) and the
-- participants' justice records; custody (release dates) is reported per export, as for
-- custody_spells and comparison_custody_spells.
with

sent as (
    select site_id, table_name from export_columns
    union
    select distinct site_id, 'justice' from justice
    union
    select distinct site_id, 'comparison' from comparison
    union
    select distinct site_id, 'comparison_justice' from comparison_justice
),

release_dates as (
    select site_id, table_name
    from export_columns
    where column_name = 'release_date'
),

site_rows as (
    select distinct site_id from participants
    union
    select site_id from sent where table_name in ('comparison', 'comparison_justice')
),

final as (
    select
        s.site_id,
        s.site_id in (select site_id from participants) as has_participants,
        (s.site_id, 'justice') in (select (site_id, table_name) from sent) as sends_justice,
        (s.site_id, 'comparison') in (select (site_id, table_name) from sent) as sends_comparison,
        (s.site_id, 'comparison_justice') in (select (site_id, table_name) from sent)
            as sends_comparison_justice,
        (s.site_id, 'justice') in (select (site_id, table_name) from release_dates) as reports_custody,
        (s.site_id, 'comparison_justice') in (select (site_id, table_name) from release_dates)
            as comparison_reports_custody,
    from site_rows as s
)

select * from final
order by site_id
