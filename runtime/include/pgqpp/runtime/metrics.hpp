/// @file metrics.hpp
/// A small Prometheus registry: counters and gauges, with labels, rendered in the text
/// exposition format (version 0.0.4) that Prometheus scrapes from /metrics.
///
/// @code
/// pgqpp::runtime::metric_registry metrics;
/// auto& events = metrics.counter("pgqpp_consumer_events_total", "Events processed.",
///                                {"queue", "consumer"});
/// auto& lag = metrics.gauge("pgqpp_consumer_lag_seconds", "Age of the last batch's end tick.",
///                           {"queue", "consumer"});
/// events.labels({"letters", "mirror"}).inc(250);
/// lag.labels({"letters", "mirror"}).set(0.8);
/// std::string text = metrics.render();
/// // # HELP pgqpp_consumer_events_total Events processed.
/// // # TYPE pgqpp_consumer_events_total counter
/// // pgqpp_consumer_events_total{queue="letters",consumer="mirror"} 250
/// // ...
/// @endcode
///
/// Thread-safe: values are atomics, families have a mutex for their children; render()
/// may run on another thread (the metrics_server's) while the program updates values.
/// References returned by labels()/get() stay valid for the registry's lifetime (until
/// the child is remove()d).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pgqpp::runtime {

/// A value that only goes up (resets only when the process restarts).
class counter {
public:
    /// Adds @p amount (must be >= 0; negative amounts are ignored).
    void inc(double amount = 1.0) noexcept;
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// A value that goes up and down.
class gauge {
public:
    void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
    void inc(double amount = 1.0) noexcept;
    void dec(double amount = 1.0) noexcept { inc(-amount); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// The kind of a metric family, as in `# TYPE`.
enum class metric_type { counter, gauge };

/**
 * All series of one metric name: one per combination of label values.
 * @tparam Metric counter or gauge
 */
template <class Metric>
class metric_family {
public:
    metric_family(std::string name, std::string help, std::vector<std::string> label_names)
        : name_{std::move(name)}, help_{std::move(help)}, label_names_{std::move(label_names)} {
        if (label_names_.empty()) children_.emplace(std::vector<std::string>{}, std::make_unique<Metric>());
    }

    /**
     * The series with these label values (created at 0 on first use).
     * @throws std::invalid_argument if the number of values differs from the label names
     */
    Metric& labels(const std::vector<std::string>& values) {
        if (values.size() != label_names_.size()) {
            throw std::invalid_argument{"metric " + name_ + ": expected " +
                                        std::to_string(label_names_.size()) + " label values, got " +
                                        std::to_string(values.size())};
        }
        std::lock_guard<std::mutex> lk{mu_};
        auto& slot = children_[values];
        if (!slot) slot = std::make_unique<Metric>();
        return *slot;
    }
    /// The series of a family without labels.
    Metric& get() { return labels({}); }
    /// Drops a series (e.g. of a database that was dropped). References to it dangle.
    void remove(const std::vector<std::string>& values) {
        std::lock_guard<std::mutex> lk{mu_};
        children_.erase(values);
    }

    const std::string& name() const noexcept { return name_; }
    const std::string& help() const noexcept { return help_; }
    const std::vector<std::string>& label_names() const noexcept { return label_names_; }

    /// Calls @p fn(label_values, value) for every series, in label order.
    template <class Fn>
    void for_each(Fn&& fn) const {
        std::lock_guard<std::mutex> lk{mu_};
        for (const auto& [values, m] : children_) fn(values, m->value());
    }

private:
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    mutable std::mutex mu_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

using counter_family = metric_family<counter>;
using gauge_family = metric_family<gauge>;

/// The metrics of a process.
class metric_registry {
public:
    /**
     * The counter family @p name (registered on first call; later calls with the same name,
     * type and label names return the same family).
     * @throws std::invalid_argument for an invalid metric or label name, or a name already
     *         registered with another type or other labels
     */
    counter_family& counter(const std::string& name, const std::string& help,
                            const std::vector<std::string>& label_names = {});
    /// The gauge family @p name (as counter()).
    gauge_family& gauge(const std::string& name, const std::string& help,
                        const std::vector<std::string>& label_names = {});

    /// Everything in the Prometheus text format, families in registration order.
    std::string render() const;

private:
    struct entry {
        metric_type type;
        std::unique_ptr<counter_family> counters;
        std::unique_ptr<gauge_family> gauges;
    };
    entry& find_or_add(metric_type type, const std::string& name, const std::string& help,
                       const std::vector<std::string>& label_names);

    mutable std::mutex mu_;
    std::vector<std::unique_ptr<entry>> entries_;
};

/// Formats a sample value as Prometheus expects: "0", "250", "0.5", "1e+20", "NaN", "+Inf".
std::string format_metric_value(double value);

/// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace pgqpp::runtime
