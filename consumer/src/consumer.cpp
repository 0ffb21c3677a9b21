// The batch loop (consumer.hpp). One batch = one transaction on the queue database.
#include "pgqpp/consumer/consumer.hpp"

#include <pgqpp/error.hpp>

#include "failpoint.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <stdexcept>
#include <utility>

namespace pgqpp::consumer {

delivery parse_delivery(const std::string& text) {
    if (text == "local" || text == "local_exactly_once") return delivery::local_exactly_once;
    if (text == "at_least_once") return delivery::at_least_once;
    if (text == "remote" || text == "remote_exactly_once") return delivery::remote_exactly_once;
    throw std::invalid_argument{"unknown delivery mode '" + text +
                                "' (expected local, remote or at_least_once)"};
}

pqxx::transaction_base& batch_context::tx() const {
    if (!tx_)
        throw std::logic_error{"batch_context::tx(): the consumer is at_least_once; only "
                               "exactly-once handlers write in a transaction of the batch"};
    return *tx_;
}

consumer::consumer(std::string queue, std::string name, delivery mode, event_handler handler,
                   batch_options options)
    : queue_{std::move(queue)}, name_{std::move(name)}, mode_{mode},
      handler_{std::move(handler)}, options_{options} {
    if (!handler_) throw std::invalid_argument{"consumer: no event handler"};
    if (options_.fetch_size <= 0) throw std::invalid_argument{"consumer: fetch_size must be > 0"};
}

consumer::consumer(std::string queue, std::string name, delivery mode, batch_handler handler,
                   batch_options options)
    : queue_{std::move(queue)}, name_{std::move(name)}, mode_{mode},
      batch_handler_{std::move(handler)}, options_{options} {
    if (!batch_handler_) throw std::invalid_argument{"consumer: no batch handler"};
    if (options_.fetch_size <= 0) throw std::invalid_argument{"consumer: fetch_size must be > 0"};
}

void consumer::set_coop(std::optional<coop_options> coop) {
    if (coop && coop->subconsumer.empty())
        throw std::invalid_argument{"consumer: a cooperative member needs a subconsumer name"};
    if (coop && mode_ == delivery::remote_exactly_once)
        throw std::invalid_argument{
            "cooperative consumers (subconsumer) work with local or at_least_once delivery, "
            "not remote: pgq_ext would track a batch taken over from a dead member under the "
            "wrong member's name"};
    coop_ = std::move(coop);
}

void consumer::register_consumer(pqxx::connection_base& conn) {
    try {
        pqxx::work tx{conn, "pgqpp_register"};
        if (coop_) {
            if (tx.exec("select to_regprocedure('pgq_coop.next_batch_custom(text,text,text,"
                        "interval,integer,interval,interval)')")[0][0]
                    .is_null())
                throw pgqpp::feature_not_available{
                    "cooperative consumers need schema pgq_coop in the queue's database "
                    "(pgqpp's pgq_sql/pgq_coop or the pgq_coop extension)"};
            tx.exec_params("select pgq_coop.register_subconsumer($1, $2, $3)", queue_, name_,
                           coop_->subconsumer);
        } else {
            tx.exec_params("select pgq.register_consumer($1, $2)", queue_, name_);
        }
        pgqpp::commit(tx);
    } catch (const pgqpp::error&) {
        throw;
    } catch (...) {
        rethrow_translated("register_consumer");
    }
}

bool consumer::has_bulk_retry(pqxx::connection_base& conn) {
    if (bulk_checked_for_ != &conn) {
        pqxx::nontransaction tx{conn, "pgqpp_detect"};
        const auto r = tx.exec(
            "select to_regprocedure('pgq.event_retry_bulk(bigint,bigint[],timestamptz)'), "
            "to_regprocedure('pgq.dead_letter_add(bigint,bigint[],text)')");
        bulk_ = !r[0][0].is_null();
        dead_letters_ = !r[0][1].is_null();
        bulk_checked_for_ = &conn;
    }
    return bulk_;
}

bool consumer::has_dead_letters(pqxx::connection_base& conn) {
    has_bulk_retry(conn);
    return dead_letters_;
}

bool consumer::has_outcome_store(pqxx::connection_base& target) {
    if (store_checked_for_ != &target) {
        pqxx::nontransaction tx{target, "pgqpp_detect"};
        outcome_store_ =
            tx.exec("select to_regprocedure('pgq_ext.get_batch_outcomes(text,text,bigint)') "
                     "is not null and to_regprocedure('pgq_ext.set_batch_outcome("
                     "text,text,bigint,bigint[],bigint,text)') is not null")[0][0]
                 .as<bool>();
        store_checked_for_ = &target;
    }
    return outcome_store_;
}

namespace {

/// An optional number of seconds as an SQL interval, or a typed null.
std::string interval_sql(pqxx::transaction_base& tx, const std::optional<std::chrono::seconds>& s) {
    return s ? tx.quote(std::to_string(s->count()) + " seconds") + "::interval"
             : std::string{"null::interval"};
}

/// ", min_lag, min_count, min_interval" of next_batch_custom.
std::string custom_args(pqxx::transaction_base& tx, const batch_options& o) {
    return ", " + interval_sql(tx, o.min_lag) + ", " +
           (o.min_count ? std::to_string(*o.min_count) + "::int4" : std::string{"null::int4"}) +
           ", " + interval_sql(tx, o.min_interval);
}

std::string id_array(const std::vector<std::int64_t>& ids) {
    std::string s = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(ids[i]);
    }
    return s + "}";
}

}  // namespace

void consumer::apply_outcomes(pqxx::transaction_base& tx, std::int64_t batch_id,
                              const detail::batch_outcomes& outcomes) {
    for (const auto& [delay, ids] : outcomes.retries) {
        if (bulk_) {
            tx.exec_params("select pgq.event_retry_bulk($1, $2::bigint[], "
                           "now() + $3 * interval '1 second')",
                           batch_id, id_array(ids), delay);
        } else {
            for (auto id : ids)
                tx.exec_params("select pgq.event_retry($1, $2, $3::integer)", batch_id, id,
                               delay);
        }
    }
    for (const auto& [reason, ids] : outcomes.dead)
        tx.exec_params("select pgq.dead_letter_add($1, $2::bigint[], $3)", batch_id,
                       id_array(ids), reason);
}

void consumer::save_outcomes(pqxx::transaction_base& target_tx, std::int64_t batch_id,
                             const detail::batch_outcomes& outcomes) {
    for (const auto& [delay, ids] : outcomes.retries)
        target_tx.exec_params("select pgq_ext.set_batch_outcome($1, '', $2, $3::bigint[], $4, "
                              "null)",
                              name_, batch_id, id_array(ids), delay);
    for (const auto& [reason, ids] : outcomes.dead)
        target_tx.exec_params("select pgq_ext.set_batch_outcome($1, '', $2, $3::bigint[], "
                              "null, $4)",
                              name_, batch_id, id_array(ids), reason);
}

detail::batch_outcomes consumer::load_outcomes(pqxx::transaction_base& target_tx,
                                               std::int64_t batch_id) {
    detail::batch_outcomes outcomes;
    for (const auto& row : target_tx.exec_params(
             "select event_id, retry_seconds, dead_reason "
             "from pgq_ext.get_batch_outcomes($1, '', $2)",
             name_, batch_id)) {
        const auto id = row[0].as<std::int64_t>();
        if (row[1].is_null())
            outcomes.dead[row[2].as<std::string>()].push_back(id);
        else
            outcomes.retries[row[1].as<std::int64_t>()].push_back(id);
    }
    return outcomes;
}

detail::batch_outcomes consumer::handle_events(pqxx::transaction_base& tx, batch_context& ctx,
                                               batch_result& result,
                                               pqxx::connection_base* helper) {
    const batch_info& info = ctx.info();
    const std::int64_t batch_id = info.batch_id;
    // Only a local handler writes through tx; the others leave it to the FETCH sent ahead.
    const bool prefetch = mode_ != delivery::local_exactly_once;
    std::optional<std::int64_t> split_after;
    if (helper && prefetch && info.event_seq - info.prev_event_seq >= 2 * options_.fetch_size)
        split_after = info.prev_event_seq + (info.event_seq - info.prev_event_seq) / 2;
    event_stream stream{tx,       batch_id, options_.fetch_size, options_.max_retries,
                        prefetch, helper,   split_after};
    if (!stream.empty_batch()) {  // hooks and handlers see non-empty batches only
        if (on_start_) on_start_(ctx);
        if (batch_handler_) {
            batch_handler_(stream, ctx);
            if (!stream.at_end() && !stream.next_chunk().empty())
                throw std::logic_error{"batch handler returned before the end of batch " +
                                       std::to_string(batch_id) +
                                       ": rolled back (read the event_stream to its end)"};
        } else {
            for (const event& ev : stream) stream.apply(ev, handler_(ev, ctx));
        }
        if (on_end_) on_end_(ctx);
    }
    stream.close();
    result.events = stream.events();
    result.retried = stream.outcomes_.retried();
    result.dead = stream.outcomes_.dead_letters();
    // Checked before anything commits (a remote target commits before the queue gets them).
    if (!stream.outcomes_.dead.empty() && !dead_letters_)
        throw pgqpp::feature_not_available{
            "dead letters need pgq.dead_letter_add, which pgqpp's SQL has and the real PgQ "
            "does not: install pgqpp's pgq, or retry instead of dead-lettering"};
    return std::move(stream.outcomes_);
}

std::int64_t consumer::open_batch(pqxx::connection_base& conn) {
    pqxx::work tx{conn, "pgqpp_next_batch"};
    const pqxx::result r =
        coop_ ? tx.exec_params("select pgq_coop.next_batch_custom($1, $2, $3" +
                                   custom_args(tx, options_) + ", " +
                                   interval_sql(tx, coop_->dead_interval) + ")",
                               queue_, name_, coop_->subconsumer)
              : tx.exec_params("select batch_id from pgq.next_batch_custom($1, $2" +
                                   custom_args(tx, options_) + ")",
                               queue_, name_);
    pgqpp::commit(tx);
    return r.empty() || r[0][0].is_null() ? 0 : r[0][0].as<std::int64_t>();
}

void consumer::finish_batch(pqxx::transaction_base& tx, std::int64_t batch_id) {
    if (!coop_) {
        tx.exec_params("select pgq.finish_batch($1)", batch_id);
        return;
    }
    // 0: another member took the batch over (we looked dead) and finished it first.
    if (tx.exec_params("select pgq_coop.finish_batch($1)", batch_id)[0][0].as<int>() != 1)
        throw pgqpp::batch_not_found{"batch " + std::to_string(batch_id) + " of " + name_ +
                                     "." + coop_->subconsumer +
                                     " was finished by another member (taken over after "
                                     "dead_interval): rolled back"};
}

batch_result consumer::process_one(pqxx::connection_base& conn) {
    return process_one(conn, nullptr);
}

batch_result consumer::process_one(pqxx::connection_base& conn, pqxx::connection_base* target) {
    return process_one(conn, target, nullptr);
}

batch_result consumer::process_one(pqxx::connection_base& conn, pqxx::connection_base* target,
                                   pqxx::connection_base* helper) {
    if (mode_ == delivery::remote_exactly_once && !target)
        throw std::logic_error{"consumer: remote_exactly_once needs a target connection"};
    has_bulk_retry(conn);  // outside the batch transaction, once per connection
    if (mode_ == delivery::remote_exactly_once) has_outcome_store(*target);
    batch_result result;
    try {
        // Remote and cooperative: the batch id must outlive a crash of this transaction
        // (pgq_ext remembers it as done; other members see whose batch it is), so
        // next_batch commits on its own and a restart gets the same batch again.
        std::int64_t opened = 0;
        if (coop_ || mode_ == delivery::remote_exactly_once) {
            opened = open_batch(conn);
            if (!opened) return result;
        }
        pqxx::work tx{conn, "pgqpp_batch"};
        // At least once: a commit lost in a server crash only delivers the batch again, so
        // the batch's commit need not wait for its WAL flush (a few ms per batch).  The
        // exactly-once modes keep it: their batch transaction holds what must not be lost.
        if (mode_ == delivery::at_least_once) tx.exec("set local synchronous_commit = off");
        const pqxx::result b =
            opened ? tx.exec_params("select $1::bigint, tick_id, prev_tick_id, "
                                    "extract(epoch from lag)::float8, seq_start, seq_end "
                                    "from pgq.get_batch_info($1)",
                                    opened)
                  : tx.exec_params("select batch_id, cur_tick_id, prev_tick_id, "
                                   "extract(epoch from now() - cur_tick_time)::float8, "
                                   "prev_tick_event_seq, cur_tick_event_seq "
                                   "from pgq.next_batch_custom($1, $2" +
                                       custom_args(tx, options_) + ")",
                                   queue_, name_);
        if (b.empty() || b[0][0].is_null()) {
            pgqpp::commit(tx);
            return result;
        }
        result.got_batch = true;
        batch_info& info = result.info;
        info.batch_id = b[0][0].as<std::int64_t>();
        info.tick_id = b[0][1].as<std::int64_t>();
        info.prev_tick_id = b[0][2].is_null() ? 0 : b[0][2].as<std::int64_t>();
        info.lag_seconds = b[0][3].is_null() ? 0.0 : b[0][3].as<double>();
        info.prev_event_seq = b[0][4].is_null() ? 0 : b[0][4].as<std::int64_t>();
        info.event_seq = b[0][5].is_null() ? 0 : b[0][5].as<std::int64_t>();

        std::optional<pqxx::work> ttx;
        if (mode_ == delivery::remote_exactly_once) {
            ttx.emplace(*target, "pgqpp_target");
            // A previous run of this consumer may have been killed while the target was
            // committing its batch; that commit can still be in progress on the server.
            // Checking is_batch_done before it is visible would apply the batch twice, so
            // wait for any such transaction first (it holds this lock until it ends), and
            // check in the next statement, whose snapshot sees its outcome.
            ttx->exec_params("select pg_advisory_xact_lock(hashtextextended($1, 0))",
                             "pgqpp.consumer.target." + name_);
            if (ttx->exec_params("select pgq_ext.is_batch_done($1, $2)", name_, info.batch_id)[0][0]
                    .as<bool>()) {
                // The target has the batch; this consumer died before finish_batch.  The
                // retries and dead letters recorded with it go to the queue now, once.
                const detail::batch_outcomes kept =
                    outcome_store_ ? load_outcomes(*ttx, info.batch_id) : detail::batch_outcomes{};
                ttx->abort();
                result.skipped = true;
                result.retried = kept.retried();
                result.dead = kept.dead_letters();
                apply_outcomes(tx, info.batch_id, kept);
                finish_batch(tx, info.batch_id);
                pgqpp::commit(tx);
                return result;
            }
        }
        pqxx::transaction_base* handler_tx = nullptr;
        if (mode_ == delivery::local_exactly_once) handler_tx = &tx;
        if (mode_ == delivery::remote_exactly_once) handler_tx = &*ttx;
        batch_context ctx{info, handler_tx};
        const detail::batch_outcomes outcomes = handle_events(tx, ctx, result, helper);
        pqxx::transaction_base* finish_tx = &tx;
        std::optional<pqxx::work> later;
        const auto commit_target = [&] {
            ttx->exec_params("select pgq_ext.set_batch_done($1, $2)", name_, info.batch_id);
            detail::failpoint("before_target_commit");
            pgqpp::commit(*ttx);
            detail::failpoint("after_target_commit");
        };
        if (!ttx) {
            apply_outcomes(tx, info.batch_id, outcomes);
        } else if (outcomes.empty() || outcome_store_) {
            // The retries and dead letters commit with the batch in the target; the queue gets
            // them with finish_batch, or from the target after a crash between the commits.
            if (!outcomes.empty()) save_outcomes(*ttx, info.batch_id, outcomes);
            commit_target();
            apply_outcomes(tx, info.batch_id, outcomes);
        } else {
            // PgQ's pgq_ext cannot keep them: commit them in the queue first, or a crash
            // after the target's commit loses them (the restart skips the batch as done).
            apply_outcomes(tx, info.batch_id, outcomes);
            pgqpp::commit(tx);
            commit_target();
            finish_tx = &later.emplace(conn, "pgqpp_finish");
        }
        finish_batch(*finish_tx, info.batch_id);
        detail::failpoint("before_queue_commit");
        pgqpp::commit(*finish_tx);
        return result;
    } catch (const pgqpp::error&) {
        throw;
    } catch (const pqxx::failure&) {
        rethrow_translated("process batch");
    }
}

}  // namespace pgqpp::consumer
