// mail_load: the mail service's writer and a load generator. It writes letters, flag
// changes, moves and deletes through the primary's plain SQL (the capture trigger queues
// them), and folder operations with their event queued by the program itself
// (pgqpp::insert_event in the same transaction). One operation per transaction, at --rate
// operations per second, until --duration or --operations is reached or SIGTERM/SIGINT.
//
//   mail_load --db "dbname=mail" --rate 500 --duration 60s
#include "folder_events.hpp"

#include <pgqpp/error.hpp>
#include <pgqpp/json.hpp>
#include <pgqpp/producer.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace rt = pgqpp::runtime;
using clock_type = std::chrono::steady_clock;

namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int) { stop_requested = true; }

rt::options_table options() {
    rt::options_table t{"mail_load", "Writes letters, flag changes, moves, deletes and folder "
                                     "operations into the primary mail database."};
    t.add(rt::opt::connection("db", "", "The primary database (mail_schema.sql, primary.sql).")
              .required());
    t.add(rt::opt::string("queue", "mail", "Queue of the folder events."));
    t.add(rt::opt::integer("rate", "200", "Operations per second (0: as fast as possible)."));
    t.add(rt::opt::duration("duration", "0", "Stop after this long (0: no limit)."));
    t.add(rt::opt::integer("operations", "0", "Stop after this many operations (0: no limit)."));
    t.add(rt::opt::integer("folders", "6", "Folders to create at start if there are fewer.")
              .positive());
    t.add(rt::opt::integer("seed", "1", "Random seed (the same seed, the same choices)."));
    t.add(rt::standard_options());
    return t;
}

struct counts {
    long letters = 0, flags = 0, moves = 0, deletes = 0, folder_ops = 0, failed = 0;
    long total() const { return letters + flags + moves + deletes + folder_ops; }
};

class mail_writer {
public:
    mail_writer(pqxx::connection& conn, std::string queue, std::uint64_t seed)
        : conn_{conn}, queue_{std::move(queue)}, random_{seed} {}

    void load_folders() {
        pqxx::work tx{conn_};
        folders_.clear();
        for (const auto& row : tx.exec("select id from mail.folders order by id"))
            folders_.push_back(row[0].as<int>());
        max_letter_ = tx.exec("select coalesce(max(id), 0) from mail.letters")[0][0].as<long>();
        tx.commit();
    }
    std::size_t folder_count() const { return folders_.size(); }

    // One operation in its own transaction; which one is chosen at random by weight.
    void one(counts& n) {
        const int dice = pick(0, 99);
        if (folders_.empty()) return create_folder(), void(++n.folder_ops);
        if (dice < 55) return new_letter(), void(++n.letters);
        if (dice < 75) return change_flags(), void(++n.flags);
        if (dice < 85) return move_letter(), void(++n.moves);
        if (dice < 95) return delete_letter(), void(++n.deletes);
        folder_operation();
        ++n.folder_ops;
    }

    // [folder-events]
    // A folder operation and its event in one transaction: both or neither.
    void create_folder() {
        pqxx::work tx{conn_};
        const std::string name = "folder-" + std::to_string(++folder_names_) + "-" +
                                 std::to_string(pick(0, 1 << 30));
        const int id = tx.exec_params("insert into mail.folders (name) values ($1) returning id",
                                      name)[0][0].as<int>();
        pgqpp::insert_event(tx, queue_, pgqpp::json_event(mail::folder_event::create,
                                                          {{"id", id}, {"name", name}}));
        pgqpp::commit(tx);
        folders_.push_back(id);
    }

    void delete_folder(int id) {
        pqxx::work tx{conn_};
        // Its letters go to the inbox first (each move queued by the capture trigger).
        tx.exec_params("update mail.letters set folder_id = $2 where folder_id = $1", id,
                       folders_.front());
        tx.exec_params("delete from mail.folders where id = $1", id);
        pgqpp::insert_event(tx, queue_,
                            pgqpp::json_event(mail::folder_event::remove, {{"id", id}}));
        pgqpp::commit(tx);
        folders_.erase(std::find(folders_.begin(), folders_.end(), id));
    }
    // [folder-events]

private:
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>{lo, hi}(random_); }
    template <class T>
    const T& one_of(const std::vector<T>& v) {
        return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
    }
    // A letter near a random id (there may be none: the statement then changes nothing).
    long some_letter() { return std::uniform_int_distribution<long>{1, max_letter_ + 1}(random_); }
    static constexpr const char* letter_at =
        "(select id from mail.letters where id >= $1 order by id limit 1)";

    // [letter-sql]
    void new_letter() {
        // Some values that need quoting or escaping on the way (JSON, COPY, array literals).
        static const std::vector<std::string> people{
            "ann@example.org", "bob@example.com", "carol@example.net", "dave@example.org",
            R"(\"Erin, \\o/\" <erin@example.com>)"};  // in recipients: "Erin, \o/" <...>
        static const std::vector<std::string> senders{"ann@example.org", "Zoë <zoe@example.net>",
                                                      "bob@example.com"};
        static const std::vector<std::string> words{
            "invoice", "meeting", "report",     "lunch",        "release",
            "urgent",  "holiday", "\"quoted\"", "tab\there",   "back\\slash",
            "line\nbreak", "Grüße ✉", "{braces}", "null"};
        static const std::vector<std::string> labels{
            "{}", "{work}", "{family}", "{work,important}", R"({"a,b","say \"hi\"",NULL})"};
        pqxx::work tx{conn_};
        const std::string subject = one_of(words) + " " + one_of(words) + " #" +
                                    std::to_string(pick(1, 99999));
        // An array literal: each element double-quoted (people holds them escaped already).
        std::string recipients = "{\"" + one_of(people);
        for (int i = pick(0, 2); i > 0; --i) recipients += "\",\"" + one_of(people);
        recipients += "\"}";
        const long id =
            tx.exec_params("insert into mail.letters (folder_id, subject, sender, recipients, "
                           "sent_at, received_at, labels, size) "
                           "values ($1, $2, $3, $4::text[], now() - $5 * interval '1 s', now(), "
                           "$6::text[], $7) returning id",
                           one_of(folders_), subject, one_of(senders), recipients, pick(1, 86400),
                           one_of(labels), pick(500, 200000))[0][0]
                .as<long>();
        pgqpp::commit(tx);
        max_letter_ = std::max(max_letter_, id);
    }
    void change_flags() {
        pqxx::work tx{conn_};
        tx.exec_params(std::string{"update mail.letters set seen = not seen, flagged = $2 "
                                   "where id = "} + letter_at,
                       some_letter(), pick(0, 3) == 0);
        pgqpp::commit(tx);
    }
    void move_letter() {
        pqxx::work tx{conn_};
        tx.exec_params(std::string{"update mail.letters set folder_id = $2 where id = "} +
                           letter_at,
                       some_letter(), one_of(folders_));
        pgqpp::commit(tx);
    }
    void delete_letter() {
        pqxx::work tx{conn_};
        tx.exec_params(std::string{"delete from mail.letters where id = "} + letter_at,
                       some_letter());
        pgqpp::commit(tx);
    }
    // [letter-sql]

    void folder_operation() {
        const int dice = pick(0, 2);
        if (folders_.size() < 4 || (dice == 0 && folders_.size() < 12)) return create_folder();
        const int id = folders_[static_cast<std::size_t>(
            pick(1, static_cast<int>(folders_.size()) - 1))];  // never the inbox
        if (dice == 1) return delete_folder(id);
        pqxx::work tx{conn_};
        const std::string name = "renamed-" + std::to_string(++folder_names_) + "-" +
                                 std::to_string(pick(0, 1 << 30));
        tx.exec_params("update mail.folders set name = $2 where id = $1", id, name);
        pgqpp::insert_event(tx, queue_, pgqpp::json_event(mail::folder_event::rename,
                                                          {{"id", id}, {"name", name}}));
        pgqpp::commit(tx);
    }

    pqxx::connection& conn_;
    std::string queue_;
    std::mt19937_64 random_;
    std::vector<int> folders_;  ///< ids, the inbox (the first one created) first
    long max_letter_ = 0;
    long folder_names_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);

    const long rate = cfg->get_int("rate");
    const long max_ops = cfg->get_int("operations");
    const auto duration = cfg->get_duration("duration");
    const auto start = clock_type::now();
    const auto deadline =
        duration.count() > 0 ? std::optional{start + duration} : std::nullopt;
    const auto interval = rate > 0 ? std::chrono::nanoseconds{1'000'000'000 / rate}
                                   : std::chrono::nanoseconds{0};
    counts n;
    std::unique_ptr<pqxx::connection> conn;
    std::optional<mail_writer> writer;
    auto next = start;
    while (!stop_requested && (max_ops == 0 || n.total() < max_ops) &&
           (!deadline || clock_type::now() < *deadline)) {
        try {
            if (!conn || !conn->is_open()) {
                conn = cfg->get_connection("db").connect();
                writer.emplace(*conn, cfg->get_string("queue"),
                               static_cast<std::uint64_t>(cfg->get_int("seed")) + n.total());
                writer->load_folders();
                while (writer->folder_count() < static_cast<std::size_t>(cfg->get_int("folders")))
                    writer->create_folder();
            }
            writer->one(n);
        } catch (const std::exception& e) {
            const auto code = pgqpp::code_of(std::current_exception());
            // A failed operation changed nothing (or, in doubt, maybe everything: the
            // primary is the truth and the mirror follows whatever committed).
            ++n.failed;
            spdlog::warn("operation failed: {}", e.what());
            if (code == pgqpp::errc::no_such_queue || code == pgqpp::errc::pgq_not_installed ||
                code == pgqpp::errc::invalid_argument || (n.failed > 100 && n.total() == 0)) {
                spdlog::critical("giving up: {}", e.what());
                return rt::exit_failure;
            }
            if (!conn || !conn->is_open() || pgqpp::code_of(std::current_exception()) ==
                                                   pgqpp::errc::connection_lost) {
                conn.reset();
                std::this_thread::sleep_for(std::chrono::seconds{1});
            }
        }
        next += interval;
        if (rate > 0) std::this_thread::sleep_until(next);
    }
    std::printf("mail_load: %ld operations: %ld new letters, %ld flag changes, %ld moves, "
                "%ld deletes, %ld folder operations; %ld failed\n",
                n.total(), n.letters, n.flags, n.moves, n.deletes, n.folder_ops, n.failed);
    return 0;
}
