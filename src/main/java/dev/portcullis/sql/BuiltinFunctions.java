package dev.portcullis.sql;

import java.util.Set;

/**
 * What the gateway knows about PostgreSQL's built-in functions and operators. A name is looked up
 * bare, or qualified with {@code pg_catalog}; any other schema is a user's function and unknown.
 * Deliberately short lists: what is not on them is unknown, and an unknown call keeps a statement
 * from being read-only (fail closed). Extend them when a real, side-effect-free built-in is missing.
 */
final class BuiltinFunctions {
    private BuiltinFunctions() {}

    enum Effect { SAFE, WRITES, SERVER_FILES, RUNS_CODE, UNKNOWN }

    /** Built-ins that write or read server files, like COPY to or from a file. */
    private static final Set<String> SERVER_FILES = Set.of("lo_import", "lo_export", "pg_file_write",
            "pg_file_rename", "pg_file_unlink");

    /** Built-ins with an effect outside the statement's result: they write, signal or lock. */
    private static final Set<String> WRITING = Set.of(
            "nextval", "setval", "set_config", "pg_notify",
            "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
            "pg_switch_wal", "pg_create_restore_point", "pg_promote", "pg_logical_emit_message",
            "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters",
            "pg_stat_reset_single_function_counters", "pg_stat_reset_slru", "pg_stat_reset_replication_slot",
            "pg_create_physical_replication_slot", "pg_create_logical_replication_slot", "pg_drop_replication_slot",
            "pg_replication_origin_create", "pg_replication_origin_drop", "pg_import_system_collations",
            "lo_unlink", "lo_create", "lo_creat", "lo_put", "lo_from_bytea", "lowrite",
            "lo_truncate", "lo_truncate64", "lo_open", "lo_close",
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
            "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock",
            "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_shared",
            "pg_advisory_unlock_all");

    /** Built-ins that run SQL text they are given (so they may do anything that text does). */
    private static final Set<String> RUNNING_SQL = Set.of(
            "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
            "cursor_to_xmlschema", "dblink", "dblink_exec", "dblink_open", "dblink_fetch", "dblink_send_query",
            "dblink_connect", "dblink_connect_u");

    /** Built-ins that only compute their result. */
    private static final Set<String> SAFE = Set.of(
            // aggregates and window functions
            "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg",
            "json_object_agg", "jsonb_object_agg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor",
            "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop",
            "covar_samp", "regr_slope", "regr_intercept", "regr_count", "regr_r2", "regr_avgx", "regr_avgy",
            "percentile_cont", "percentile_disc", "mode", "row_number", "rank", "dense_rank", "percent_rank",
            "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value", "grouping",
            // strings
            "lower", "upper", "initcap", "length", "char_length", "character_length", "octet_length", "bit_length",
            "substring", "substr", "trim", "btrim", "ltrim", "rtrim", "lpad", "rpad", "concat", "concat_ws",
            "replace", "reverse", "left", "right", "position", "strpos", "split_part", "repeat", "translate",
            "format", "quote_ident", "quote_literal", "quote_nullable", "md5", "sha224", "sha256", "sha384",
            "sha512", "encode", "decode", "to_hex", "ascii", "chr", "overlay", "starts_with", "string_to_array",
            "string_to_table", "array_to_string", "regexp_replace", "regexp_match", "regexp_matches",
            "regexp_split_to_array", "regexp_split_to_table", "regexp_like", "regexp_count", "regexp_instr",
            "regexp_substr", "normalize", "is_normalized", "unistr", "like_escape", "similar_to_escape",
            "similar_escape", "convert_from", "convert_to", "to_ascii", "pg_collation_for",
            // numbers
            "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "pow", "sqrt", "cbrt", "exp", "ln",
            "log", "log10", "sign", "pi", "degrees", "radians", "div", "gcd", "lcm", "width_bucket", "random",
            "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "factorial", "scale", "trim_scale",
            // dates and times
            "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday", "date_trunc",
            "date_part", "extract", "age", "make_date", "make_time", "make_timestamp", "make_timestamptz",
            "make_interval", "to_timestamp", "to_date", "to_char", "to_number", "date_bin", "justify_days",
            "justify_hours", "justify_interval", "isfinite", "timezone", "overlaps",
            // json and jsonb
            "to_json", "to_jsonb", "row_to_json", "array_to_json", "json_build_object", "jsonb_build_object",
            "json_build_array", "jsonb_build_array", "json_object", "jsonb_object", "json_array_length",
            "jsonb_array_length", "json_each", "jsonb_each", "json_each_text", "jsonb_each_text",
            "json_extract_path", "jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text",
            "json_object_keys", "jsonb_object_keys", "json_array_elements", "jsonb_array_elements",
            "json_array_elements_text", "jsonb_array_elements_text", "json_typeof", "jsonb_typeof", "jsonb_set",
            "jsonb_set_lax", "jsonb_insert", "jsonb_pretty", "json_strip_nulls", "jsonb_strip_nulls",
            "json_populate_record", "jsonb_populate_record", "json_populate_recordset", "jsonb_populate_recordset",
            "json_to_record", "jsonb_to_record", "json_to_recordset", "jsonb_to_recordset", "jsonb_path_query",
            "jsonb_path_exists", "jsonb_path_match", "jsonb_path_query_array", "jsonb_path_query_first",
            // arrays and sets
            "array_length", "array_lower", "array_upper", "array_dims", "array_ndims", "cardinality",
            "array_append", "array_prepend", "array_cat", "array_remove", "array_replace", "array_position",
            "array_positions", "array_fill", "unnest", "generate_series", "generate_subscripts",
            // other
            "num_nonnulls", "num_nulls", "gen_random_uuid", "uuid_generate_v4", "version", "current_database",
            "current_schema", "current_schemas", "current_setting", "pg_backend_pid", "pg_typeof", "format_type",
            "pg_size_pretty", "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size",
            "pg_database_size", "obj_description", "col_description", "shobj_description", "pg_get_viewdef",
            "pg_get_indexdef", "pg_get_constraintdef", "pg_get_functiondef", "pg_get_function_arguments",
            "pg_get_function_result", "pg_get_function_identity_arguments", "pg_get_expr", "pg_get_userbyid",
            "pg_get_triggerdef", "pg_get_ruledef", "pg_get_serial_sequence", "pg_table_is_visible",
            "pg_type_is_visible", "pg_function_is_visible", "pg_encoding_to_char", "pg_get_keywords",
            "has_table_privilege", "has_column_privilege", "has_schema_privilege", "has_database_privilege",
            "has_function_privilege", "has_sequence_privilege", "pg_has_role", "currval", "lastval",
            "to_tsvector", "to_tsquery", "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "ts_rank",
            "ts_rank_cd", "ts_headline", "host", "masklen", "network", "family", "inet_client_addr",
            "bool", "int2", "int4", "int8", "text", "numeric", "float4", "float8", "date", "varchar");

    /** Built-in operators (by symbol). A user-defined operator calls a user's function. */
    private static final Set<String> OPERATORS = Set.of(
            "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "^", "||", "|/", "||/", "@", "&", "|",
            "#", "~", "<<", ">>", "~~", "!~~", "~~*", "!~~*", "!~", "~*", "!~*", "->", "->>", "#>", "#>>", "@>",
            "<@", "?", "?|", "?&", "@?", "@@", "&&", "#-", "<<=", ">>=", "-|-", "&<", "&>");

    /** @param names the function name as written, schema first when qualified */
    static Effect classify(java.util.List<String> names) {
        String name = builtinName(names);
        if (name == null) return Effect.UNKNOWN;
        if (SAFE.contains(name)) return Effect.SAFE;
        if (WRITING.contains(name)) return Effect.WRITES;
        if (SERVER_FILES.contains(name)) return Effect.SERVER_FILES;
        if (RUNNING_SQL.contains(name)) return Effect.RUNS_CODE;
        return Effect.UNKNOWN;
    }

    static boolean isBuiltinOperator(java.util.List<String> names) {
        String name = builtinName(names);
        return name != null && OPERATORS.contains(name);
    }

    private static String builtinName(java.util.List<String> names) {
        if (names.size() == 1) return names.getFirst();
        if (names.size() == 2 && names.getFirst().equals("pg_catalog")) return names.get(1);
        return null;
    }
}
