#include "pgqpp/runtime/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace pgqpp::runtime {

namespace {

bool valid_metric_name(std::string_view n) {
    if (n.empty()) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!(alpha || (i > 0 && c >= '0' && c <= '9'))) return false;
    }
    return true;
}

bool valid_label_name(std::string_view n) {
    if (n.empty() || n.substr(0, 2) == "__") return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!(alpha || (i > 0 && c >= '0' && c <= '9'))) return false;
    }
    return true;
}

std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void atomic_add(std::atomic<double>& a, double amount) noexcept {
    double cur = a.load(std::memory_order_relaxed);
    while (!a.compare_exchange_weak(cur, cur + amount, std::memory_order_relaxed)) {
    }
}

template <class Family>
void render_family(std::string& out, const Family& f, std::string_view type) {
    out += "# HELP " + f.name() + " " + escape_help(f.help()) + "\n";
    out += "# TYPE " + f.name() + " " + std::string{type} + "\n";
    f.for_each([&](const std::vector<std::string>& values, double v) {
        out += f.name();
        if (!values.empty()) {
            out += '{';
            for (std::size_t i = 0; i < values.size(); ++i) {
                if (i > 0) out += ',';
                out += f.label_names()[i] + "=\"" + escape_label_value(values[i]) + '"';
            }
            out += '}';
        }
        out += ' ' + format_metric_value(v) + '\n';
    });
}

}  // namespace

void counter::inc(double amount) noexcept {
    if (amount > 0) atomic_add(value_, amount);
}

void gauge::inc(double amount) noexcept { atomic_add(value_, amount); }

std::string format_metric_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        return fmt::format("{}", static_cast<long long>(value));
    }
    return fmt::format("{}", value);  // shortest round-trip form
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

metric_registry::entry& metric_registry::find_or_add(metric_type type, const std::string& name,
                                                     const std::string& help,
                                                     const std::vector<std::string>& label_names) {
    if (!valid_metric_name(name)) throw std::invalid_argument{"invalid metric name '" + name + "'"};
    for (const auto& l : label_names) {
        if (!valid_label_name(l))
            throw std::invalid_argument{"metric " + name + ": invalid label name '" + l + "'"};
    }
    std::lock_guard<std::mutex> lk{mu_};
    for (auto& e : entries_) {
        const std::string& existing = e->type == metric_type::counter ? e->counters->name()
                                                                      : e->gauges->name();
        if (existing != name) continue;
        const auto& labels = e->type == metric_type::counter ? e->counters->label_names()
                                                             : e->gauges->label_names();
        if (e->type != type || labels != label_names) {
            throw std::invalid_argument{"metric " + name +
                                        " is already registered with another type or labels"};
        }
        return *e;
    }
    auto e = std::make_unique<entry>();
    e->type = type;
    if (type == metric_type::counter) {
        e->counters = std::make_unique<counter_family>(name, help, label_names);
    } else {
        e->gauges = std::make_unique<gauge_family>(name, help, label_names);
    }
    entries_.push_back(std::move(e));
    return *entries_.back();
}

counter_family& metric_registry::counter(const std::string& name, const std::string& help,
                                         const std::vector<std::string>& label_names) {
    return *find_or_add(metric_type::counter, name, help, label_names).counters;
}

gauge_family& metric_registry::gauge(const std::string& name, const std::string& help,
                                     const std::vector<std::string>& label_names) {
    return *find_or_add(metric_type::gauge, name, help, label_names).gauges;
}

std::string metric_registry::render() const {
    std::string out;
    std::lock_guard<std::mutex> lk{mu_};
    for (const auto& e : entries_) {
        if (e->type == metric_type::counter) {
            render_family(out, *e->counters, "counter");
        } else {
            render_family(out, *e->gauges, "gauge");
        }
    }
    return out;
}

}  // namespace pgqpp::runtime
