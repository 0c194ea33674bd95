-- Connected components of the match graph (transitive closure: A~B by email and B~C by phone
-- put A, B and C into one person) by iterative min-label propagation: every round, each
-- contact takes the smallest label among itself and its neighbours. Plain joins and group-bys
-- in a fixed number of rounds keep the SQL portable (no recursive CTE). A component is settled
-- when a round changes nothing; the `has_converged` column is tested to be true everywhere,
-- so a graph deeper than `identity_propagation_rounds` fails the build instead of silently
-- splitting a person.
-- Incremental: the closure is recomputed over the whole graph, but only contacts whose person,
-- match rule or convergence changed are rewritten and stamped (`_dbt_updated_at`), so the
-- facts recheck only the rows of those contacts (macro rows_to_recheck).
{{
    config(
        materialized='incremental',
        unique_key='contact_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set rounds = var('identity_propagation_rounds') | int %}

with edges as (

    select * from {{ ref('int_contact_edges') }}

),

labels_0 as (

    select distinct
        contact_key,
        contact_key as component_label

    from edges

),
{% for round in range(1, rounds + 1) %}
labels_{{ round }} as (

    select
        edges.contact_key,
        min(previous.component_label) as component_label

    from edges
    inner join labels_{{ round - 1 }} as previous
        on previous.contact_key = edges.neighbour_key
    group by edges.contact_key

),
{% endfor %}
match_rules as (

    select
        contact_key,
        max(case when match_type = 'email' then 1 else 0 end) as has_email_match,
        max(case when match_type = 'phone' then 1 else 0 end) as has_phone_match

    from edges
    group by contact_key

),

resolved as (

    select
        labels.contact_key,
        {{ dbt.hash('labels.component_label') }} as customer_key,
        labels.component_label as anchor_contact_key,
        case
            when labels.contact_key = labels.component_label then 'anchor'
            when match_rules.has_email_match = 1 then 'email'
            when match_rules.has_phone_match = 1 then 'phone'
        end as match_rule,
        labels.component_label = previous_round.component_label as has_converged

    from labels_{{ rounds }} as labels
    inner join labels_{{ rounds - 1 }} as previous_round
        on previous_round.contact_key = labels.contact_key
    inner join match_rules
        on match_rules.contact_key = labels.contact_key

),

changed as (

    {{ incremental_changes('resolved', 'contact_key', ['customer_key', 'match_rule', 'has_converged'], version_column=none) }}

),

final as (

    select
        *,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from changed

)

select * from final
