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
