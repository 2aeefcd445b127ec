#include "policy/clock_mesh.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace fedprobe {

namespace {

// Solves A x = b in place by Gaussian elimination with partial pivoting; A is n x n and
// symmetric positive definite here (a reduced weighted Laplacian of a connected graph).
// Also returns the diagonal of A's inverse, each site's variance.
bool solve(std::vector<std::vector<double>> a, std::vector<double>& b, std::vector<double>& var) {
    const std::size_t n = b.size();
    std::vector<std::vector<double>> inv(n, std::vector<double>(n, 0));
    for (std::size_t i = 0; i < n; ++i)
        inv[i][i] = 1;
    for (std::size_t c = 0; c < n; ++c) {
        std::size_t p = c;
        for (std::size_t r = c + 1; r < n; ++r)
            if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
        if (std::abs(a[p][c]) < 1e-300) return false;
        std::swap(a[p], a[c]);
        std::swap(b[p], b[c]);
        std::swap(inv[p], inv[c]);
        for (std::size_t r = 0; r < n; ++r) {
            if (r == c) continue;
            const double f = a[r][c] / a[c][c];
            if (f == 0) continue;
            for (std::size_t k = c; k < n; ++k)
                a[r][k] -= f * a[c][k];
            for (std::size_t k = 0; k < n; ++k)
                inv[r][k] -= f * inv[c][k];
            b[r] -= f * b[c];
        }
    }
    var.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] /= a[i][i];
        var[i] = inv[i][i] / a[i][i];
    }
    return true;
}

}  // namespace

MeshFit fit_clock_mesh(const std::vector<OffsetMeasurement>& all, std::string reference) {
    std::vector<OffsetMeasurement> ms;
    std::set<std::string> sites;
    for (const auto& m : all) {
        if (!(m.error > 0) || m.from == m.to || !std::isfinite(m.offset)) continue;
        ms.push_back(m);
        sites.insert(m.from);
        sites.insert(m.to);
    }
    MeshFit fit;
    if (sites.empty()) return fit;
    if (reference.empty() || !sites.count(reference)) reference = *sites.begin();
    fit.reference = reference;

    // The sites a chain of measurements joins to the reference; the others cannot be placed.
    std::set<std::string> reached{reference};
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& m : ms)
            if (reached.count(m.from) != reached.count(m.to)) {
                reached.insert(m.from);
                reached.insert(m.to);
                grew = true;
            }
    }
    for (const auto& s : sites)
        if (!reached.count(s)) fit.unreached.push_back(s);

    std::vector<std::string> unknowns;  // every reached site but the reference
    std::map<std::string, std::size_t> index;
    for (const auto& s : reached)
        if (s != reference) {
            index[s] = unknowns.size();
            unknowns.push_back(s);
        }
    const std::size_t n = unknowns.size();
    std::vector<std::vector<double>> a(n, std::vector<double>(n, 0));
    std::vector<double> b(n, 0), var;
    // Each measurement: x_to - x_from = offset, weight 1 / error^2.
    for (const auto& m : ms) {
        if (!reached.count(m.from)) continue;
        const double w = 1 / (m.error * m.error);
        const bool f = m.from != reference, t = m.to != reference;
        const std::size_t i = f ? index[m.from] : 0, j = t ? index[m.to] : 0;
        if (t) {
            a[j][j] += w;
            b[j] += w * m.offset;
        }
        if (f) {
            a[i][i] += w;
            b[i] -= w * m.offset;
        }
        if (f && t) {
            a[i][j] -= w;
            a[j][i] -= w;
        }
    }
    fit.offset[reference] = 0;
    fit.error[reference] = 0;
    if (n > 0 && solve(a, b, var))
        for (std::size_t i = 0; i < n; ++i) {
            fit.offset[unknowns[i]] = b[i];
            fit.error[unknowns[i]] = std::sqrt(std::max(var[i], 0.0));
        }

    for (const auto& m : ms) {
        if (!fit.offset.count(m.from) || !fit.offset.count(m.to)) continue;
        MeshFit::Pair p;
        p.measured = m;
        p.fitted = fit.offset[m.to] - fit.offset[m.from];
        p.residual = m.offset - p.fitted;
        // The exchange's raw one-way times were rtt/2 + offset and rtt/2 - offset; with the
        // fitted offset in place of the measured one, the residual moves between the two.
        const double rtt = m.rtt > 0 ? m.rtt : 2 * m.error;
        p.forward = std::clamp(rtt / 2 + p.residual, 0.0, rtt);
        p.backward = rtt - p.forward;
        p.delay_error = std::min(rtt / 2, fit.error[m.from] + fit.error[m.to]);
        fit.pairs.push_back(p);
    }

    // Triangles: the mean measured offset of each pair (either direction), summed around.
    std::map<std::pair<std::string, std::string>, std::pair<double, double>> pair;  // sum, bound
    std::map<std::pair<std::string, std::string>, int> count;
    for (const auto& m : ms) {
        auto add = [&](const std::string& x, const std::string& y, double off) {
            auto& e = pair[{x, y}];
            e.first += off;
            e.second += m.error;
            ++count[{x, y}];
        };
        add(m.from, m.to, m.offset);
        add(m.to, m.from, -m.offset);
    }
    auto edge = [&](const std::string& x, const std::string& y, double& off, double& bound) {
        auto it = pair.find({x, y});
        if (it == pair.end()) return false;
        const int c = count[{x, y}];
        off = it->second.first / c;
        bound = it->second.second / c;
        return true;
    };
    const std::vector<std::string> list(sites.begin(), sites.end());
    for (std::size_t i = 0; i < list.size(); ++i)
        for (std::size_t j = i + 1; j < list.size(); ++j)
            for (std::size_t k = j + 1; k < list.size(); ++k) {
                double o1, b1, o2, b2, o3, b3;
                if (!edge(list[i], list[j], o1, b1) || !edge(list[j], list[k], o2, b2) ||
                    !edge(list[k], list[i], o3, b3))
                    continue;
                fit.loops.push_back(
                    MeshFit::Loop{{list[i], list[j], list[k]}, o1 + o2 + o3, b1 + b2 + b3});
            }
    return fit;
}

}  // namespace fedprobe
