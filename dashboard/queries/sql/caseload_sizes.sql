-- Each case manager of the scope's site (only the scope's own, for a case manager): current
-- and exited participants at $as_of, against the guidance of $low to $high.
with

participants as (
    select * from participants
),

in_scope as (
    select *
    from participants
    where ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or case_manager_id = $scope_case_manager)
),

caseloads as (
    select
        case_manager_id,
        count(*) filter (where exit_date is null or exit_date > $as_of) as current,
        count(*) filter (where exit_date <= $as_of) as exited,
    from in_scope
    group by case_manager_id
),

final as (
    select
        case_manager_id,
        current,
        exited,
        case
            when current > $high then 'more than ' || $high
            when current >= $low then $low || ' to ' || $high
            else 'fewer than ' || $low
        end as guidance,
    from caseloads
)

select * from final
order by case_manager_id
