-- The problems inside the scope (of $tables; empty: all) fixed, most recently fixed first.
with

problems as (
    select * from problems
),

fixed as (
    select *
    from problems
    where status = 'fixed'
      and ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or list_contains(case_manager_ids, $scope_case_manager))
      and (len($tables::varchar[]) = 0 or list_contains($tables::varchar[], table_name))
),

final as (
    select
        site_id,
        table_name,
        participant_id,
        column_name,
        rule,
        value,
        message,
        first_seen,
        fixed_on,
        days_to_fix,
        problem_id,
    from fixed
)

select * exclude (problem_id) from final
order by fixed_on desc, site_id, table_name, column_name, rule, problem_id
limit $limit
