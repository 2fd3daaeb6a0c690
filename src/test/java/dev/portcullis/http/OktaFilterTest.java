package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.http.OktaFilter.Comparison;
import dev.portcullis.http.OktaFilter.Operator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OktaFilterTest {

    static List<Comparison> read(String expression) throws OktaFilter.SyntaxException {
        return OktaFilter.comparisons(expression);
    }

    static Comparison cmp(String attribute, Operator op, String value) {
        return new Comparison(attribute, op, Optional.ofNullable(value));
    }

    @Test
    void readsOktasDocumentedSearches() throws Exception {
        assertThat(read("profile.email eq \"a@example.com\""))
                .containsExactly(cmp("profile.email", Operator.EQ, "a@example.com"));
        assertThat(read("status eq \"ACTIVE\" and (lastUpdated gt \"2013-06-01T00:00:00.000Z\" or profile.department pr)"))
                .containsExactly(cmp("status", Operator.EQ, "ACTIVE"),
                        cmp("lastUpdated", Operator.GT, "2013-06-01T00:00:00.000Z"),
                        cmp("profile.department", Operator.PR, null));
        assertThat(read("not (profile.email sw \"a\")")).containsExactly(cmp("profile.email", Operator.SW, "a"));
        assertThat(read("profile.age ge -1.5e3 or profile.isAdmin eq true or profile.manager eq null"))
                .containsExactly(cmp("profile.age", Operator.GE, "-1.5e3"), cmp("profile.isAdmin", Operator.EQ, "true"),
                        cmp("profile.manager", Operator.EQ, "null"));
        assertThat(read("profile.cost_center-2 co \"x\"")).containsExactly(cmp("profile.cost_center-2", Operator.CO, "x"));
    }

    @Test
    void operatorsAndKeywordsAreReadWithoutCase() throws Exception {
        assertThat(read("profile.email SW \"a\" AND status Eq \"ACTIVE\" Or NOT (id PR)"))
                .containsExactly(cmp("profile.email", Operator.SW, "a"), cmp("status", Operator.EQ, "ACTIVE"),
                        cmp("id", Operator.PR, null));
        assertThat(read("profile.ok eq TRUE")).containsExactly(cmp("profile.ok", Operator.EQ, "true"));
    }

    @Test
    void everyOperatorIsKnownAndOnlyEqNeAndPrAreEquality() throws Exception {
        for (Operator op : Operator.values()) {
            String e = op == Operator.PR ? "a " + op.text() : "a " + op.text() + " \"v\"";
            assertThat(read(e)).singleElement().extracting(Comparison::operator).isEqualTo(op);
        }
        assertThat(List.of(Operator.values())).filteredOn(Operator::isEquality)
                .containsExactlyInAnyOrder(Operator.EQ, Operator.NE, Operator.PR);
    }

    @Test
    void stringsUnescapeAsJson() throws Exception {
        assertThat(read("a eq \"O\\\"Brien \\\\ \\/ \\u0041\\n\"").getFirst().value()).contains("O\"Brien \\ / A\n");
        // An escaped quote does not end the string: what follows is still inside it, not a second comparison.
        assertThat(read("status eq \"x\\\" or profile.email sw \\\"a\"")).containsExactly(
                cmp("status", Operator.EQ, "x\" or profile.email sw \"a"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "a",                                // free text, as Okta's q takes
            "john smith",
            "a eq",                             // no value
            "a eq b",                           // bare word as value
            "a eq \"x",                         // unterminated
            "a eq \"x\\q\"",                    // unknown escape
            "a eq \"\\u12\"",                   // short \\u
            "a eq \"x\" and",                   // dangling and
            "a eq \"x\" b pr",                  // two expressions
            "a eq \"x\"b pr",
            "(a pr",                            // unbalanced
            "a pr)",
            "not a pr",                         // SCIM: not takes parentheses
            "a eq 01",                          // not a JSON number
            "a eq 1.",
            "a eq truex",
            "a like \"x\"",                     // unknown operator
            "a eq1 \"x\"",
            "emails[type eq \"work\"]",          // value paths are not read
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"",
            "profile..email eq \"x\"",
            "and eq \"x\"",                     // keyword as attribute
            "a eq \"x\" ; DROP",
            "",
            "   ",
    })
    void whatIsNotOneExpressionIsRefused(String expression) {
        assertThatThrownBy(() -> read(expression)).isInstanceOf(OktaFilter.SyntaxException.class);
    }

    @Test
    void aControlCharacterInAStringIsRefused() {
        assertThatThrownBy(() -> read("a eq \"x\u0000y\"")).isInstanceOf(OktaFilter.SyntaxException.class)
                .hasMessageContaining("control character in a string at character 8");
    }

    @Test
    void nestingIsBoundedBeforeTheStackIs() throws Exception {
        String ok = "(".repeat(OktaFilter.MAX_DEPTH) + "a pr" + ")".repeat(OktaFilter.MAX_DEPTH);
        assertThat(read(ok)).hasSize(1);
        String deep = "(".repeat(OktaFilter.MAX_DEPTH + 1) + "a pr" + ")".repeat(OktaFilter.MAX_DEPTH + 1);
        assertThatThrownBy(() -> read(deep)).hasMessageContaining("nested deeper than " + OktaFilter.MAX_DEPTH);
        String hostile = "not (".repeat(100_000);
        assertThatThrownBy(() -> read(hostile)).isInstanceOf(OktaFilter.SyntaxException.class);
    }

    @Test
    void lengthIsBounded() throws Exception {
        String longest = "a eq \"" + "x".repeat(OktaFilter.MAX_CHARS - 7) + "\"";
        assertThat(longest).hasSize(OktaFilter.MAX_CHARS);
        assertThat(read(longest)).hasSize(1);
        assertThatThrownBy(() -> read(longest + " ")).hasMessageContaining("longer than " + OktaFilter.MAX_CHARS);
    }

    @Test
    void errorsSayWhere() {
        assertThatThrownBy(() -> read("profile.email zz \"a\"")).hasMessage(
                "expected an operator (eq ne co sw ew pr gt ge lt le), got 'zz' at character 15");
    }

    @Test
    void sortValuesNameAttributesInOrderWithADirectionOrNot() throws Exception {
        assertThat(OktaFilter.sortAttributes("profile.lastName")).containsExactly("profile.lastName");
        assertThat(OktaFilter.sortAttributes("-created,+title, profile.email DESC ,name asc"))
                .containsExactly("created", "title", "profile.email", "name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "profile.email:desc", "a,,b", "a,", "a b", "a desc desc", "profile..email", "--a", "\"a\""})
    void aSortValueThatIsNotAListOfAttributesIsASyntaxError(String value) {
        assertThatThrownBy(() -> OktaFilter.sortAttributes(value)).isInstanceOf(OktaFilter.SyntaxException.class);
    }
}
