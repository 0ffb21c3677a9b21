// mail_verify: compares the primary's mail with the mirror's: every folder (name and
// counters) and every letter (all columns), and on each side whether the counters match the
// letters. Prints what differs (the first few of each kind, and how many) and exits 0 only
// if both sides are identical; 1 if they differ; 2 for a bad command line; 3 if it could
// not compare (a database unreachable, the mirror not caught up within --wait).
//
//   mail_verify --db "dbname=mail" --target-db "host=mirror dbname=mail" --wait 60s
//
// --count-events: also check exactly-once delivery: the mirror's batch log
// (mail.applied_batches) has no batch twice and as many events as the primary's queue holds
// (valid while the queue still holds every event since the consumer was registered: before
// its first rotation, queue_rotation_period, 2 h by default).
//
// --wait: first make a tick on the primary and wait until the mirror daemon has finished
// it (stop the writers before, or the comparison sees letters still on their way).
#include <pgqpp/quote.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace rt = pgqpp::runtime;

namespace {

constexpr int exit_different = 1;
constexpr int exit_error = 3;
constexpr int examples_shown = 10;

rt::options_table options() {
    rt::options_table t{"mail_verify", "Compares the primary's mail with the mirror's."};
    t.add(rt::opt::connection("db", "", "The primary database.").required());
    t.add(rt::opt::connection("target_db", "", "The mirror database.").required());
    t.add(rt::opt::string("queue", "mail", "The queue (for --wait)."));
    t.add(rt::opt::string("consumer", "mail_mirror", "The mirror daemon's consumer (for --wait)."));
    t.add(rt::opt::duration("wait", "0",
                            "First wait up to this long until the mirror has caught up with "
                            "everything committed on the primary (0: compare at once)."));
    t.add(rt::opt::boolean("count_events", "0",
                           "Also check that every event of the queue was applied once (see "
                           "the comment at the top of mail_verify.cpp for when it is valid)."));
    t.add(rt::standard_options());
    return t;
}

// Makes a tick and waits until the consumer has finished it. False after the time limit.
bool wait_caught_up(pqxx::connection& primary, const std::string& queue,
                    const std::string& consumer, std::chrono::steady_clock::duration limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    pqxx::nontransaction tx{primary};
    // pgq.ticker(queue) ticks only when it is due (ticker_max_count, ticker_max_lag);
    // force_tick makes the next call tick whatever was committed until now.
    tx.exec_params("select pgq.force_tick($1)", queue);
    tx.exec_params("select pgq.ticker($1)", queue);
    const auto tick =
        tx.exec_params("select last_tick_id from pgq.get_queue_info($1)", queue)[0][0].as<long>();
    for (;;) {
        const auto done = tx.exec_params("select last_tick from pgq.get_consumer_info($1, $2)",
                                         queue, consumer);
        if (!done.empty() && !done[0][0].is_null() && done[0][0].as<long>() >= tick) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
}

class report {
public:
    void difference(const std::string& kind, const std::string& text) {
        if (++counts_[kind] <= examples_shown)
            std::printf("  %s: %s\n", kind.c_str(), one_line(text).c_str());
    }
    bool clean() const { return counts_.empty(); }
    void summary() const {
        for (const auto& [kind, n] : counts_) std::printf("  %ld x %s\n", n, kind.c_str());
    }

private:
    /// A row may hold newlines or tabs (letters' subjects do): written as \n, \t and \r, so
    /// that each difference is one line of the report. Unambiguous: in a row's text a
    /// backslash of the data is doubled already.
    static std::string one_line(const std::string& text) {
        std::string out;
        for (char c : text) {
            if (c == '\n') out += "\\n";
            else if (c == '\t') out += "\\t";
            else if (c == '\r') out += "\\r";
            else out += c;
        }
        return out;
    }

    std::map<std::string, long> counts_;
};

// Both sides read one snapshot each, ordered by id: a merge of two sorted streams, a few
// thousand rows in memory at a time, however many letters there are.
class sorted_rows {
public:
    sorted_rows(pqxx::connection& conn, const std::string& query) : tx_{conn} {
        tx_.exec("set local timezone = 'UTC'");
        tx_.exec("declare rows no scroll cursor for " + query);
        fetch();
    }
    bool done() const { return pos_ >= rows_.size(); }
    long id() const { return rows_[pos_][0].as<long>(); }
    std::string text() const { return rows_[pos_][1].c_str(); }
    void next() {
        if (++pos_ >= rows_.size()) fetch();
    }
    long count() const { return seen_; }

private:
    void fetch() {
        rows_ = tx_.exec("fetch 10000 from rows");
        pos_ = 0;
        seen_ += static_cast<long>(rows_.size());
    }
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx_;
    pqxx::result rows_;
    std::size_t pos_ = 0;
    long seen_ = 0;
};

void compare(pqxx::connection& primary, pqxx::connection& mirror, const std::string& what,
             const std::string& query, report& r, long& primary_count, long& mirror_count) {
    sorted_rows p{primary, query}, m{mirror, query};
    while (!p.done() || !m.done()) {
        if (m.done() || (!p.done() && p.id() < m.id())) {
            r.difference(what + " missing on the mirror", p.text());
            p.next();
        } else if (p.done() || m.id() < p.id()) {
            r.difference(what + " only on the mirror", m.text());
            m.next();
        } else {
            if (p.text() != m.text())
                r.difference(what + " different", "primary " + p.text() + " / mirror " + m.text());
            p.next();
            m.next();
        }
    }
    primary_count = p.count();
    mirror_count = m.count();
}

// Folders whose counters do not match their letters.
void check_counters(pqxx::connection& conn, const std::string& side, report& r) {
    pqxx::read_transaction tx{conn};
    const auto rows = tx.exec(R"SQL(
        select f.id, f.total, f.unread, f.bytes,
               coalesce(l.total, 0), coalesce(l.unread, 0), coalesce(l.bytes, 0)
          from mail.folders f
          left join (select folder_id, count(*) as total,
                            count(*) filter (where not seen) as unread, sum(size) as bytes
                       from mail.letters group by folder_id) l on l.folder_id = f.id
         where (f.total, f.unread, f.bytes) is distinct from
               (coalesce(l.total, 0), coalesce(l.unread, 0), coalesce(l.bytes, 0))
         order by f.id)SQL");
    for (const auto& row : rows)
        r.difference("counters wrong on the " + side,
                     "folder " + std::string{row[0].c_str()} + " says total/unread/bytes " +
                         row[1].c_str() + "/" + row[2].c_str() + "/" + row[3].c_str() +
                         ", its letters " + row[4].c_str() + "/" + row[5].c_str() + "/" +
                         row[6].c_str());
}

// Exactly once: each batch logged once, and the events applied = the events queued.
void check_events(pqxx::connection& primary, pqxx::connection& mirror, const std::string& queue,
                  report& r) {
    pqxx::read_transaction p{primary};
    const auto table = p.exec_params("select queue_data_pfx from pgq.queue where queue_name = $1",
                                     queue);
    if (table.empty()) return r.difference("events", "no queue '" + queue + "' on the primary");
    const long queued =
        p.exec("select count(*) from " + pgqpp::quote_qualified_name(primary, table[0][0].c_str()))
            [0][0].as<long>();
    pqxx::read_transaction m{mirror};
    const auto log = m.exec("select count(*), count(distinct batch_id), coalesce(sum(events), 0) "
                            "from mail.applied_batches")[0];
    const long batches = log[0].as<long>(), distinct = log[1].as<long>(), applied = log[2].as<long>();
    std::printf("mail_verify: %ld events queued on the primary, %ld applied on the mirror in %ld "
                "batches\n", queued, applied, batches);
    if (batches != distinct)
        r.difference("events", std::to_string(batches - distinct) + " batches applied twice");
    if (queued != applied)
        r.difference("events", std::to_string(queued) + " queued but " + std::to_string(applied) +
                                   " applied");
}

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));
    try {
        auto primary = cfg->get_connection("db").connect();
        auto mirror = cfg->get_connection("target_db").connect();
        if (const auto wait = cfg->get_duration("wait"); wait.count() > 0 &&
            !wait_caught_up(*primary, cfg->get_string("queue"), cfg->get_string("consumer"), wait)) {
            std::printf("mail_verify: the mirror did not catch up within %s (is "
                        "mail_mirror_daemon running?)\n", rt::format_duration(wait).c_str());
            return exit_error;
        }
        report r;
        long folders_p = 0, folders_m = 0, letters_p = 0, letters_m = 0;
        compare(*primary, *mirror, "folder",
                "select id, f::text from mail.folders f order by id", r, folders_p, folders_m);
        compare(*primary, *mirror, "letter",
                "select id, l::text from mail.letters l order by id", r, letters_p, letters_m);
        check_counters(*primary, "primary", r);
        check_counters(*mirror, "mirror", r);
        if (cfg->get_bool("count_events")) check_events(*primary, *mirror, cfg->get_string("queue"), r);
        std::printf("mail_verify: primary %ld folders, %ld letters; mirror %ld folders, %ld "
                    "letters\n", folders_p, letters_p, folders_m, letters_m);
        if (r.clean()) {
            std::printf("mail_verify: IDENTICAL (every letter and folder, counters included%s)\n",
                        cfg->get_bool("count_events") ? "; every event applied exactly once" : "");
            return 0;
        }
        r.summary();
        std::printf("mail_verify: DIFFERENT\n");
        return exit_different;
    } catch (const std::exception& e) {
        std::printf("mail_verify: cannot compare: %s\n", e.what());
        return exit_error;
    }
}
