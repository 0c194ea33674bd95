-- Connected components of the match graph (transitive closure: A~B by email and B~C by phone
-- put A, B and C into one person) by iterative min-label propagation: every round, each
-- contact takes the smallest label among itself and its neighbours. Plain joins and group-bys
-- in a fixed number of rounds keep the SQL portable (no recursive CTE). A component is settled
-- when a round changes nothing; the `has_converged` column is tested to be true everywhere,
-- so a graph deeper than `identity_propagation_rounds` fails the build instead of silently
-- splitting a person.
-- Incremental: the closure is recomputed only over the components a day's changes can touch
-- (`affected`, argued below). Contacts whose person, match rule or convergence changed are
-- rewritten and stamped (`_dbt_updated_at`), so the facts recheck only their rows (macro
-- rows_to_recheck); other contacts with a new version are rewritten unstamped. A change of
-- the identity_blocklist seed, of the cap var or of the rounds var after a non-converged
-- build changes persons without any contact changing: it needs `--full-refresh`
-- (docs/identity-resolution.md).
{{
    config(
        materialized='incremental',
        unique_key='contact_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set rounds = var('identity_propagation_rounds') | int %}

with contacts as (

    select contact_key, email_normalized, phone_normalized, _loaded_at
    from {{ ref('stg_raw__contacts') }}

),
{% if is_incremental() %}
-- Why restricting the closure to `affected` is exact: the graph changes only through
-- contacts whose match values changed, all among the contacts with a version loaded after
-- the last resolution (the seeds; the blocklist and the cap are fixed). An edge of today's
-- graph with one end in `affected` has its other end in it: an edge that existed at the last
-- resolution lies inside one built component, and every built component touching `affected`
-- is in it whole; a new edge either has a seed at one end (the other end holds the seed's
-- value, so it is a holder below) or joins two unchanged contacts through a value that a
-- seed's arrival or departure moved under the cap (both are holders of that value). The same
-- reasoning for removed edges shows that every component outside `affected` is unchanged,
-- so its built rows stay right. The departure case is why the values the seeds held at the
-- last resolution count too: a seed leaving a value shared by one contact too many links the
-- remaining holders, who never shared a component with the seed.
seeds as (

    select
        contacts.contact_key,
        contacts.email_normalized,
        contacts.phone_normalized,
        built.email_normalized as previous_email_normalized,
        built.phone_normalized as previous_phone_normalized

    from contacts
    -- {{ this }} is read where it is used, not through a CTE: DuckDB materialises a CTE used
    -- several times (a copy of every built row), while a direct scan reads only the rows
    -- the join lets through.
    left join {{ this }} as built
        on built.contact_key = contacts.contact_key
    where contacts._loaded_at > {{ loaded_watermark() }}

),

seed_values as (
    {% for match_type in ['email', 'phone'] %}
    {%- for column in [match_type ~ '_normalized', 'previous_' ~ match_type ~ '_normalized'] %}
    select '{{ match_type }}' as match_type, {{ column }} as match_value
    from seeds
    where {{ column }} is not null
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}

),

-- Today's holders of the seeds' values, before the cap and the blocklist (which may keep
-- a value from linking anyone, but a seed's arrival or departure can move it under the cap).
holders as (
    {% for match_type in ['email', 'phone'] %}
    select contacts.contact_key
    from contacts
    inner join seed_values
        on seed_values.match_value = contacts.{{ match_type }}_normalized
    where seed_values.match_type = '{{ match_type }}'
    union
    {%- endfor %}
    select contact_key from seeds

),

affected as (

    select contact_key from holders
    union
    select built.contact_key
    from {{ this }} as built
    where built.customer_key in (
        select touched.customer_key
        from {{ this }} as touched
        inner join holders
            on holders.contact_key = touched.contact_key
    )

),

edges as (

    select * from {{ ref('int_contact_edges') }}
    where contact_key in (select contact_key from affected)

),
{%- else %}
edges as (

    select * from {{ ref('int_contact_edges') }}

),
{%- endif %}

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
        labels.component_label = previous_round.component_label as has_converged,
        -- The values and version this resolution used: the next incremental run finds the
        -- contacts whose values changed, and the values they left, from them.
        contacts.email_normalized,
        contacts.phone_normalized,
        contacts._loaded_at

    from labels_{{ rounds }} as labels
    inner join labels_{{ rounds - 1 }} as previous_round
        on previous_round.contact_key = labels.contact_key
    inner join match_rules
        on match_rules.contact_key = labels.contact_key
    left join contacts
        on contacts.contact_key = labels.contact_key

),

{%- if is_incremental() %}
compared as (

    select
        resolved.*,
        built.contact_key is null
            or resolved.customer_key is distinct from built.customer_key
            or resolved.match_rule is distinct from built.match_rule
            or resolved.has_converged is distinct from built.has_converged as has_moved,
        resolved._loaded_at is distinct from built._loaded_at as has_new_version,
        built.customer_key as built_customer_key,
        built._previous_customer_key as built_previous_customer_key,
        built._dbt_updated_at as built_updated_at

    from resolved
    left join {{ this }} as built
        on built.contact_key = resolved.contact_key

),

-- A contact with a new version whose person did not change is rewritten (the next run must
-- see the values it used) without a new stamp, which would make the facts recheck its rows.
final as (

    select
        contact_key,
        customer_key,
        anchor_contact_key,
        match_rule,
        has_converged,
        email_normalized,
        phone_normalized,
        _loaded_at,
        case when has_moved then built_customer_key
            else built_previous_customer_key end as _previous_customer_key,
        case when has_moved then {{ run_started_timestamp() }}
            else built_updated_at end as _dbt_updated_at

    from compared
    where has_moved or has_new_version

)
{%- else %}
final as (

    select
        *,
        cast(null as {{ dbt.type_string() }}) as _previous_customer_key,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from resolved

)
{%- endif %}

select * from final
