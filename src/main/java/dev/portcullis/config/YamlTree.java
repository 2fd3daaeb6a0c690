package dev.portcullis.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a YAML file as snakeyaml's node tree (which keeps line and column of everything) and
 * turns it into typed values, collecting every problem instead of stopping at the first.
 * Environment variables are substituted in scalar values only, never in keys.
 */
public final class YamlTree {

    /** How an unset {@code ${VAR}} is treated. */
    enum UnsetVariables { ERROR, EMPTY }

    private final String fileLabel;
    private final Map<String, String> env;
    private final UnsetVariables unset;
    private final List<Problem> problems = new ArrayList<>();

    private record Problem(int line, int column, String text) {}

    YamlTree(String fileLabel, Map<String, String> env, UnsetVariables unset) {
        this.fileLabel = fileLabel;
        this.env = Map.copyOf(env);
        this.unset = unset;
    }

    /** The root node, or null (with a problem reported) when the text is not one YAML document. */
    /** The lines of the text last parsed, for {@link #source}. */
    private String[] lines = new String[0];

    /**
     * A block as written in the file: the lines {@code node} spans, its own indentation removed (a rule
     * shown as its author wrote it, comments inside it included).
     */
    String source(Node node) {
        int first = node.getStartMark().getLine();
        int column = node.getStartMark().getColumn();
        int last = node.getEndMark().getColumn() == 0 ? node.getEndMark().getLine() - 1 : node.getEndMark().getLine();
        StringBuilder out = new StringBuilder();
        for (int i = first; i <= last && i < lines.length; i++) {
            String line = lines[i];
            String cut = i == first ? line.substring(Math.min(column, line.length()))
                    : line.length() >= column && line.substring(0, column).isBlank() ? line.substring(column) : line.strip();
            out.append(cut).append('\n');
        }
        return out.toString().stripTrailing();
    }

    Node parse(String text) {
        lines = text.split("\r?\n", -1);
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(20);
        options.setAllowRecursiveKeys(false);
        try {
            Node root = new Yaml(options).compose(new java.io.StringReader(text));
            if (root == null) problems.add(new Problem(1, 1, fileLabel + ":1:1: the file is empty"));
            return root;
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
            int line = m == null ? 1 : m.getLine() + 1;
            int column = m == null ? 1 : m.getColumn() + 1;
            problems.add(new Problem(line, column, fileLabel + ":" + line + ":" + column + ": not valid YAML: " + what));
            return null;
        } catch (YAMLException e) {
            problems.add(new Problem(1, 1, fileLabel + ":1:1: not valid YAML: " + e.getMessage()));
            return null;
        }
    }

    public void problem(Node at, String path, String message) {
        Mark m = at.getStartMark();
        int line = m.getLine() + 1;
        int column = m.getColumn() + 1;
        problems.add(new Problem(line, column,
                fileLabel + ":" + line + ":" + column + ": " + (path.isEmpty() ? "" : path + ": ") + message));
    }

    public int problemCount() {
        return problems.size();
    }

    void throwIfProblems() throws ConfigException {
        if (problems.isEmpty()) return;
        throw new ConfigException(problems.stream()
                .sorted(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column))
                .map(Problem::text).distinct().toList());
    }

    static void fail(String fileLabel, String message) throws ConfigException {
        throw new ConfigException(List.of(fileLabel + ": " + message));
    }

    // ---- structure

    /** A mapping whose keys were checked against the allowed ones. */
    public final class Obj {
        public final Node node;
        public final String path;
        private final Map<String, Node> values = new LinkedHashMap<>();

        private Obj(MappingNode node, String path, List<String> allowed) {
            this.node = node;
            this.path = path;
            for (NodeTuple t : node.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode key)) {
                    problem(t.getKeyNode(), path, "a key must be plain text");
                    continue;
                }
                String name = key.getValue();
                if (!allowed.contains(name)) {
                    problem(key, child(name), "unknown key" + suggestion(name, allowed));
                } else if (values.containsKey(name)) {
                    problem(key, child(name), "duplicate key");
                } else {
                    values.put(name, t.getValueNode());
                }
            }
        }

        public boolean has(String key) {
            Node n = values.get(key);
            return n != null && !isNull(n);
        }

        /** The value node, or null when absent or null in YAML. */
        public Node get(String key) {
            return has(key) ? values.get(key) : null;
        }

        public String child(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        public void missing(String key, String expected) {
            problem(node, child(key), "missing; expected " + expected);
        }
    }

    /** The node as a mapping with only the allowed keys, or null (problem reported) when not a mapping. */
    public Obj obj(Node node, String path, List<String> allowed) {
        if (node instanceof MappingNode m) return new Obj(m, path, allowed);
        problem(node, path, "expected a mapping with keys " + String.join(", ", allowed) + ", got " + describe(node));
        return null;
    }

    /** The elements of a sequence, or null (problem reported) when not a sequence. */
    public List<Node> list(Node node, String path) {
        if (node instanceof SequenceNode s) return s.getValue();
        problem(node, path, "expected a list, got " + describe(node));
        return null;
    }

    /** A mapping's entries in order, keys as text; null (problem reported) when not a mapping. */
    public Map<String, Node> entries(Node node, String path) {
        if (!(node instanceof MappingNode m)) {
            problem(node, path, "expected a mapping, got " + describe(node));
            return null;
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key)) {
                problem(t.getKeyNode(), path, "a key must be plain text");
            } else if (out.put(key.getValue(), t.getValueNode()) != null) {
                problem(key, path + "." + key.getValue(), "duplicate key");
            }
        }
        return out;
    }

    public static boolean isNull(Node n) {
        return n instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    public static String describe(Node n) {
        return switch (n) {
            case MappingNode m -> "a mapping";
            case SequenceNode s -> "a list";
            case ScalarNode s when s.getTag().equals(Tag.NULL) -> "nothing";
            case ScalarNode s -> "'" + s.getValue() + "'";
            default -> "'" + n.getNodeId() + "'";
        };
    }

    // ---- scalars and substitution

    /**
     * A scalar after substitution. {@code text} is null when it could not be read (problem reported);
     * {@code unresolved} when an unset variable was replaced with nothing (policy-test mode).
     */
    public record Scalar(Node node, String path, String text, boolean unresolved) {}

    public Scalar scalar(Node node, String path) {
        if (!(node instanceof ScalarNode s) || isNull(node)) {
            problem(node, path, "expected a value, got " + describe(node));
            return new Scalar(node, path, null, false);
        }
        String raw = s.getValue();
        if (raw.indexOf('$') < 0) return new Scalar(node, path, raw, false);
        StringBuilder out = new StringBuilder(raw.length());
        boolean unresolved = false;
        boolean failed = false;
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c == '$' && raw.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (c == '$' && raw.startsWith("${", i)) {
                int end = raw.indexOf('}', i + 2);
                if (end < 0) {
                    problem(node, path, "unterminated '${' (write $${ for a literal '${')");
                    failed = true;
                    break;
                }
                String expr = raw.substring(i + 2, end);
                int sep = expr.indexOf(":-");
                String name = sep < 0 ? expr : expr.substring(0, sep);
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    problem(node, path, "'${" + expr + "}' is not ${NAME} or ${NAME:-default}");
                    failed = true;
                } else {
                    String value = env.get(name);
                    if (value != null) {
                        out.append(value);
                    } else if (sep >= 0) {
                        out.append(expr, sep + 2, expr.length());
                    } else if (unset == UnsetVariables.EMPTY) {
                        unresolved = true;
                    } else {
                        problem(node, path, "environment variable " + name + " is not set"
                                + " (set it, or write ${" + name + ":-default})");
                        failed = true;
                    }
                }
                i = end + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return new Scalar(node, path, failed ? null : out.toString(), unresolved);
    }

    /** Turns text into a value; throws IllegalArgumentException with a detail when it cannot. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(String text);
    }

    /**
     * Reads and converts a scalar. Returns null when it fails (problem reported); in policy-test mode
     * a value that is only wrong because a variable was unset gives {@code placeholder} instead.
     */
    public <T> T convert(Node node, String path, String expected, Parser<T> parser, T placeholder) {
        Scalar s = scalar(node, path);
        if (s.text() == null) return null;
        try {
            return parser.parse(s.text());
        } catch (IllegalArgumentException e) {
            if (s.unresolved() && placeholder != null) return placeholder;
            String detail = e.getMessage() == null || e.getMessage().isEmpty() ? "" : " (" + e.getMessage() + ")";
            problem(node, path, "expected " + expected + ", got '" + s.text() + "'" + detail);
            return null;
        }
    }

    /** A list of scalars; null (problem reported) when not a list, empty, or an element is bad. */
    public List<String> texts(Node node, String path) {
        List<Node> items = list(node, path);
        if (items == null) return null;
        if (items.isEmpty()) {
            problem(node, path, "expected a non-empty list");
            return null;
        }
        List<String> out = new ArrayList<>(items.size());
        boolean ok = true;
        for (int i = 0; i < items.size(); i++) {
            String text = scalar(items.get(i), path + "[" + i + "]").text();
            if (text == null) ok = false;
            else out.add(text);
        }
        return ok ? out : null;
    }

    // ---- did you mean

    static String suggestion(String got, List<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(got, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        if (best != null && bestDistance <= Math.max(1, Math.min(3, best.length() / 3))) {
            return "; did you mean '" + best + "'?";
        }
        return "; expected one of " + String.join(", ", known);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
