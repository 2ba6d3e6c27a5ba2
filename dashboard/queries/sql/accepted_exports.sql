-- The export in force of each site (of the scope) and table, and the days from its acceptance
-- to $today.
with

files as (
    select * from files
),

accepted as (
    select
        site_id,
        table_name,
        path,
        accepted_at,
        try_cast(left(accepted_at, 10) as date) as accepted_on,
        error,
    from files
    where status in ('new', 'unchanged', 'in_force')
      and ($scope_site is null or site_id = $scope_site)
),

final as (
    select
        *,
        $today - accepted_on as days_since,
    from accepted
)

select * from final
