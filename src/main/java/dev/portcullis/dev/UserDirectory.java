package dev.portcullis.dev;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The demo org's users and their role assignments, ordered by id (which is creation order). All access is
 * synchronized; listing takes a snapshot so a long streamed response never holds the lock.
 */
final class UserDirectory {
    private final TreeMap<String, OktaUser> usersById = new TreeMap<>();
    private final Map<String, String> idsByLogin = new HashMap<>();
    private final Map<String, List<RoleAssignment>> rolesByUserId = new HashMap<>();

    /** A user with that login exists already. */
    static final class DuplicateLoginException extends Exception {
        DuplicateLoginException(String login) {
            super(login);
        }
    }

    synchronized void add(OktaUser user) throws DuplicateLoginException {
        String login = key(user.login());
        if (idsByLogin.containsKey(login)) {
            throw new DuplicateLoginException(user.login());
        }
        usersById.put(user.id(), user);
        idsByLogin.put(login, user.id());
    }

    /** By id, or else by login (Okta's {@code GET /users/{idOrLogin}}). */
    synchronized Optional<OktaUser> find(String idOrLogin) {
        OktaUser byId = usersById.get(idOrLogin);
        if (byId != null) {
            return Optional.of(byId);
        }
        return Optional.ofNullable(idsByLogin.get(key(idOrLogin))).map(usersById::get);
    }

    /** Users with id after {@code afterId} (all when empty), in id order. */
    synchronized List<OktaUser> snapshotAfter(Optional<String> afterId) {
        return new ArrayList<>(afterId.map(after -> usersById.tailMap(after, false)).orElse(usersById).values());
    }

    synchronized List<String> ids() {
        return List.copyOf(usersById.keySet());
    }

    synchronized int size() {
        return usersById.size();
    }

    /** Replaces the user with {@code change(current)}; empty if there is no such user. */
    synchronized Optional<OktaUser> update(String id, UnaryOperator<OktaUser> change) throws DuplicateLoginException {
        OktaUser current = usersById.get(id);
        if (current == null) {
            return Optional.empty();
        }
        OktaUser next = change.apply(current);
        String oldLogin = key(current.login());
        String newLogin = key(next.login());
        if (!oldLogin.equals(newLogin)) {
            if (idsByLogin.containsKey(newLogin)) {
                throw new DuplicateLoginException(next.login());
            }
            idsByLogin.remove(oldLogin);
            idsByLogin.put(newLogin, id);
        }
        usersById.put(id, next);
        return Optional.of(next);
    }

    synchronized void remove(String id) {
        OktaUser removed = usersById.remove(id);
        if (removed != null) {
            idsByLogin.remove(key(removed.login()));
            rolesByUserId.remove(id);
        }
    }

    synchronized List<RoleAssignment> roles(String userId) {
        return List.copyOf(rolesByUserId.getOrDefault(userId, List.of()));
    }

    /** Empty if the user holds this role already (Okta answers that with a conflict). */
    synchronized Optional<RoleAssignment> assign(String userId, RoleAssignment assignment) {
        List<RoleAssignment> roles = rolesByUserId.computeIfAbsent(userId, k -> new ArrayList<>());
        if (roles.stream().anyMatch(r -> r.role() == assignment.role())) {
            return Optional.empty();
        }
        roles.add(assignment);
        return Optional.of(assignment);
    }

    synchronized boolean unassign(String userId, String assignmentId) {
        List<RoleAssignment> roles = rolesByUserId.get(userId);
        return roles != null && roles.removeIf(r -> r.id().equals(assignmentId));
    }

    private static String key(String login) {
        return login.toLowerCase(Locale.ROOT);
    }
}
