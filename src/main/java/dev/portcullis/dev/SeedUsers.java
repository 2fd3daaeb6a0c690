package dev.portcullis.dev;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Generates believable users: real-looking names, addresses at reserved example domains, E.164 mobile numbers
 * from ranges reserved for fiction (US 555-01xx style, UK 07700 900xxx), and for some users a free-text
 * {@code notes} field with an e-mail address or phone number inside, so masking has something to find.
 */
final class SeedUsers {
    private static final String[] FIRST = {"Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken",
            "Frances", "Edsger", "Radia", "Tim", "Hedy", "John", "Katherine", "Donald", "Sophie", "Guido", "Anita",
            "Bjarne", "Joan", "James", "Mary", "Niklaus", "Shafi", "Leslie", "Lynn", "Brian", "Karen", "Whitfield",
            "Priya", "Mateo", "Amara", "Yuki", "Olu", "Ingrid", "Rafael", "Chen", "Fatima", "Lars"};
    private static final String[] LAST = {"Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov",
            "Thompson", "Allen", "Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "McCarthy", "Johnson", "Knuth",
            "Wilson", "van Rossum", "Borg", "Stroustrup", "Clarke", "Gosling", "Keller", "Wirth", "Goldwasser",
            "Lamport", "Conway", "Kernighan", "Jones", "Diffie", "Raman", "Garcia", "Okafor", "Tanaka", "Adeyemi",
            "Larsen", "Moreira", "Wei", "Haddad", "Nilsson"};
    private static final String[] TITLES = {"Engineer", "Senior Engineer", "Product Manager", "Designer",
            "Support Specialist", "Account Executive", "Finance Analyst", "Recruiter", "SRE", "Data Scientist"};
    private static final String[] DEPARTMENTS = {"Engineering", "Product", "Design", "Support", "Sales", "Finance",
            "People", "Operations", "Data"};
    private static final String[] US_AREA_CODES = {"212", "303", "312", "415", "512", "617", "646", "720", "206", "404"};

    private SeedUsers() {
    }

    static List<OktaUser> generate(int count, OktaIds ids, RandomGenerator random, Instant now) {
        var users = new ArrayList<OktaUser>(count);
        for (int i = 0; i < count; i++) {
            users.add(user(i, ids.next("00u"), random, now));
        }
        return users;
    }

    private static OktaUser user(int index, String id, RandomGenerator random, Instant now) {
        String first = FIRST[random.nextInt(FIRST.length)];
        String last = LAST[random.nextInt(LAST.length)];
        // the index keeps logins unique however many users share a name
        String local = (first + "." + last).toLowerCase(Locale.ROOT).replaceAll("[^a-z.]", "") + (index + 1);
        String email = local + "@example.com";

        ObjectNode profile = JsonNodeFactory.instance.objectNode();
        profile.put("firstName", first);
        profile.put("lastName", last);
        profile.put("mobilePhone", mobilePhone(random));
        profile.put("secondEmail", random.nextInt(3) == 0 ? local + "@example.org" : null);
        profile.put("login", email);
        profile.put("email", email);
        profile.put("title", TITLES[random.nextInt(TITLES.length)]);
        profile.put("department", DEPARTMENTS[random.nextInt(DEPARTMENTS.length)]);
        profile.put("employeeNumber", String.format(Locale.ROOT, "E%06d", index + 1));
        if (random.nextInt(4) == 0) {
            profile.put("notes", notes(first, last, random));
        }

        Instant created = now.minus(Duration.ofDays(30 + random.nextInt(1500))).minusSeconds(random.nextInt(86_400));
        OktaUser.Status status = status(random);
        boolean activated = status != OktaUser.Status.PROVISIONED;
        Instant activatedAt = created.plusSeconds(60 + random.nextInt(3600));
        Instant lastLogin = now.minus(Duration.ofMinutes(random.nextInt(60 * 24 * 30)));
        Instant passwordChanged = activatedAt.plus(Duration.ofDays(random.nextInt(20)));
        return new OktaUser(id, status, created,
                activated ? Optional.of(activatedAt) : Optional.empty(),
                activated ? activatedAt : created,
                activated ? Optional.of(lastLogin) : Optional.empty(),
                activated ? passwordChanged : created,
                activated ? Optional.of(passwordChanged) : Optional.empty(),
                profile, activated);
    }

    private static OktaUser.Status status(RandomGenerator random) {
        int roll = random.nextInt(100);
        if (roll < 90) return OktaUser.Status.ACTIVE;
        if (roll < 94) return OktaUser.Status.PROVISIONED;
        if (roll < 97) return OktaUser.Status.SUSPENDED;
        return OktaUser.Status.LOCKED_OUT;
    }

    private static String mobilePhone(RandomGenerator random) {
        if (random.nextInt(5) == 0) {
            return "+447700900" + String.format(Locale.ROOT, "%03d", random.nextInt(1000));
        }
        return "+1" + US_AREA_CODES[random.nextInt(US_AREA_CODES.length)] + "555"
                + String.format(Locale.ROOT, "%04d", random.nextInt(10_000));
    }

    private static String notes(String first, String last, RandomGenerator random) {
        String personal = (first.charAt(0) + last).toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "")
                + random.nextInt(100) + "@example.net";
        String phone = "(" + US_AREA_CODES[random.nextInt(US_AREA_CODES.length)] + ") 555-01"
                + String.format(Locale.ROOT, "%02d", random.nextInt(100));
        return switch (random.nextInt(3)) {
            case 0 -> "Prefers personal mail " + personal + " while travelling.";
            case 1 -> "On-call backup; reach at " + phone + " after hours.";
            default -> "Contractor. Invoices to " + personal + ", phone " + phone + ".";
        };
    }
}
