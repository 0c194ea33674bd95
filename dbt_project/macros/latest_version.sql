{#- Keeps one row per natural key: the latest version by `version_column` (newest first), ties
    broken by the later load and the later source row, so a re-sent identical version and a
    correction loaded later both resolve deterministically. Rows with no version column keep
    the last loaded copy. -#}
{% macro latest_version(relation, natural_key, version_column=none) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ natural_key | join(', ') }}
                order by
                    {% if version_column %}{{ version_column }} desc nulls last,{% endif %}
                    _loaded_at desc,
                    _source_row desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}

{#- Rate that turns an amount in `currency` into the reporting currency, from the fx_rates seed
    rows joined as `fx` (the amount's currency) and `fx_reporting` (the reporting currency),
    both for the month of the amount. -#}
{% macro fx_rate_to_reporting(fx='fx', fx_reporting='fx_reporting') -%}
    cast({{ fx }}.cny_per_unit / {{ fx_reporting }}.cny_per_unit as decimal(18, 6))
{%- endmacro %}

{#- Filter for a staging model's import CTE over `relation` (aliased `alias`): on an
    incremental run, only the rows of natural keys that got a row loaded after the newest
    `_loaded_at` already staged — every version of those keys, old ones included, so
    `latest_version` still picks among all of them. A key's newest load is staged or lost to a
    higher version loaded earlier, so nothing loaded since the last build is missed (some keys
    are merely re-staged). On a full build: no filter. -#}
{% macro keys_with_new_versions(relation, alias, natural_key) -%}
    {%- if is_incremental() %}
    where exists (
        select 1
        from {{ relation }} as new_versions
        where new_versions._loaded_at > {{ loaded_watermark() }}
            {%- for column in natural_key %}
            and new_versions.{{ column }} = {{ alias }}.{{ column }}
            {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}
