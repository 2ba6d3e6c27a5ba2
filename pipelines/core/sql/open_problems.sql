-- The open data problems inside a scope, oldest first: the one list the Caseload page, the
-- Data quality page and `outcomes feedback` read.
--   $scope_site, $scope_case_manager: the Scope (null: no limit); a problem is in a caseload when
--     its participant's rows name that case manager (rows that disagree name several)
--   $tables: the export tables to keep (empty: all)
--   $unassigned: only the problems no case manager can be found for (never inside a caseload)
with

problems as (
    select * from problems
),

in_scope as (
    select *
    from problems
    where status = 'open'
      and ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or list_contains(case_manager_ids, $scope_case_manager))
),

chosen as (
    select *
    from in_scope
    where (len($tables::varchar[]) = 0 or list_contains($tables::varchar[], table_name))
      and (not $unassigned or len(case_manager_ids) = 0)
),

final as (
    select
        site_id,
        table_name,
        participant_id,
        nullif(array_to_string(case_manager_ids, ', '), '') as case_manager_id,
        column_name,
        rule,
        value,
        message,
        fix,
        file,
        row_number,
        first_seen,
        age_days,
    from chosen
)

select * from final
order by age_days desc nulls last, site_id, table_name, file, row_number, column_name, rule
