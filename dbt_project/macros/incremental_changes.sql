{#- Rows of the CTE `candidates` that an incremental model must (re)write: keys not built yet,
    keys whose source version was loaded after the built one (`_loaded_at` newer, when
    `version_column` is set), and keys whose `watched_columns` changed for another reason (e.g.
    identity resolution merged two persons, so an old order's customer_key moved). Everything
    else is left untouched, so a daily increment rewrites only new and changed rows. On a full
    build: every candidate. Each row also carries `_previous_customer_key`, the customer_key it
    had when built (null when new): the before-image models downstream of the fact need to
    rebuild the person a row moved away from, not only the one it moved to. -#}
{% macro incremental_changes(candidates, unique_key, watched_columns=[], version_column='_loaded_at') -%}
    {%- if is_incremental() %}
    select
        {{ candidates }}.*,
        built.customer_key as _previous_customer_key
    from {{ candidates }}
    left join {{ this }} as built
        on built.{{ unique_key }} = {{ candidates }}.{{ unique_key }}
    where built.{{ unique_key }} is null
        {%- if version_column %}
        or {{ candidates }}.{{ version_column }} > built.{{ version_column }}
        {%- endif %}
        {%- for column in watched_columns %}
        or {{ candidates }}.{{ column }} is distinct from built.{{ column }}
        {%- endfor %}
    {%- else %}
    select
        *,
        cast(null as {{ dbt.type_string() }}) as _previous_customer_key
    from {{ candidates }}
    {%- endif %}
{%- endmacro %}

{#- When this dbt invocation started (UTC), as a SQL timestamp literal: what facts stamp on
    the rows they write (`_dbt_updated_at`), so a model downstream can read only the rows
    written after its own last build, whichever invocation wrote them. -#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The newest `_dbt_updated_at` of the model being built: an incremental model downstream of
    the facts reads only the fact rows written after it (all of them when the model is empty). -#}
{% macro incremental_watermark() -%}
    {{ newest_value(this, '_dbt_updated_at') }}
{%- endmacro %}

{#- Customer keys with a row in one of `facts` written after `since`, on both sides of the
    write: the key the row has now and the one it had before (`_previous_customer_key`), so a
    model that aggregates per person rebuilds the person a row left as well as the one it
    joined. A row rewritten twice between two builds of the model keeps only its last
    before-image, so such models must be built with the facts (as `crm run` and `dbt build`
    do); a partial build history is mended by a full refresh. -#}
{% macro changed_customer_keys(facts, since) -%}
    {%- for fact in facts %}
    select customer_key from {{ fact }}
    where _dbt_updated_at > {{ since }} and customer_key is not null
    union
    select _previous_customer_key from {{ fact }}
    where _dbt_updated_at > {{ since }} and _previous_customer_key is not null
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Newest `column` of `relation` (1900-01-01 when empty), read when the model or test runs
    and written into its SQL as a literal. DuckDB prunes row groups by their min/max against a
    literal and estimates the rows it keeps, so the day's few rows become the build side of a
    hash join; a scalar subquery is opaque to both. At 1M customers, on a day with nothing new
    for it, fct_campaign_events' change detection hashed its 20M built rows (5 s) for nothing;
    with the literal the query ends at once. Without the relation (a compile
    before the first build; `this` in a unit test, none or a fixture's CTE name), the same value
    as a subquery. -#}
{% macro newest_value(relation, column) -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) if execute and relation is not none and relation is not string else none -%}
    {%- set newest -%}
        coalesce(max({{ column }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
    {%- endset -%}
    {%- if found is none -%}
        (select {{ newest }} from {{ relation }})
    {%- else -%}
        {%- set query -%}
            select cast({{ newest }} as {{ dbt.type_string() }}) from {{ relation }}
        {%- endset -%}
        cast('{{ run_query(query).columns[0].values()[0] }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- Newest `_loaded_at` of the model being built (1900-01-01 when empty): every source row
    loaded after it is new or a new version to the model. -#}
{% macro loaded_watermark() -%}
    {{ newest_value(this, '_loaded_at') }}
{%- endmacro %}

{#- Contacts whose person moved since the last write of the model being built: those
    `identities` (int_contacts_resolved) stamped after the model's newest `_dbt_updated_at`. -#}
{% macro moved_contacts(identities) -%}
    select contact_key from {{ identities }}
    where _dbt_updated_at > {{ incremental_watermark() }}
{%- endmacro %}

{#- The rows of `staged` whose output can differ from the built model's: those loaded after
    its newest `_loaded_at` (new keys and new versions), and the older ones whose `key` is in
    the query `changed_keys` (e.g. moved_contacts). Every other row would be compared with its
    built one for nothing, and that comparison joined every staged row. On a full build: every
    row. Two disjoint sets under `union all`, not one `where loaded or key in (...)`: that
    filter made DuckDB 2.0.0 fail intermittently at large ("dict-surviving join: narrowed
    column received a non-dictionary chunk", duckdb/duckdb#24807), docs/decisions.md. -#}
{% macro rows_to_recheck(staged, changed_keys, key='contact_key') -%}
    select * from {{ staged }}
    {%- if is_incremental() %}
    {%- set watermark = loaded_watermark() %}
    where _loaded_at > {{ watermark }}
    union all
    select * from {{ staged }}
    where _loaded_at <= {{ watermark }}
        and {{ key }} in ({{ changed_keys }})
    {%- endif %}
{%- endmacro %}
