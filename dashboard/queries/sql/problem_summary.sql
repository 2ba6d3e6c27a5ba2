-- Per site of the scope: open problems, their median and oldest age, problems fixed, median
-- days to fix. Every site with an accepted export has a row.
with

files as (
    select * from files
),

problems as (
    select * from problems
),

chosen as (
    select *
    from problems
    where ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or list_contains(case_manager_ids, $scope_case_manager))
      and (len($tables::varchar[]) = 0 or list_contains($tables::varchar[], table_name))
),

accepted_sites as (
    select distinct site_id
    from files
    where status in ('new', 'unchanged', 'in_force')
      and ($scope_site is null or site_id = $scope_site)
),

sites as (
    select site_id from accepted_sites
    union
    select distinct site_id from chosen
),

counted as (
    select
        site_id,
        count(*) filter (where status = 'open') as open_problems,
        median(age_days) filter (where status = 'open') as median_age_days,
        max(age_days) filter (where status = 'open') as oldest_age_days,
        count(*) filter (where status = 'fixed') as fixed_problems,
        median(days_to_fix) filter (where status = 'fixed') as median_days_to_fix,
    from chosen
    group by site_id
),

final as (
    select
        sites.site_id,
        coalesce(counted.open_problems, 0)::bigint as open_problems,
        counted.median_age_days::double as median_age_days,
        counted.oldest_age_days::bigint as oldest_age_days,
        coalesce(counted.fixed_problems, 0)::bigint as fixed_problems,
        counted.median_days_to_fix::double as median_days_to_fix,
    from sites
    left join counted using (site_id)
)

select * from final
order by open_problems desc, site_id
