// Pieces the closed-form fits share (fit.cpp: score matching; fit_nce.cpp: NCE): the
// standardisation of the polynomial family, the meta.json skeleton, model directory writing and
// table formatting.
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "fit.hpp"

namespace scorematch::app {

std::string monomial_name(const Exponent& a);
nlohmann::json fit_meta(const dist::Comm& comm, const FitJob& o, const Shard& shard,
                        double seconds);
// Rank 0 writes the model directory (arrays, meta.json, extra arrays and text files) atomically.
void write_model(const dist::Comm& comm, const std::string& out, const ScoreModel& model,
                 const nlohmann::json& meta, const NamedArrays& extra,
                 const std::vector<std::pair<std::string, std::string>>& texts = {});
std::pair<Vector, Vector> polynomial_standardisation(const dist::Comm& comm, const FitJob& o,
                                                     const Shard& shard);
// poly:K by noise-contrastive estimation (estimators/polynomial_nce.hpp).
void fit_polynomial_by_nce(const dist::Comm& comm, const FitJob& o, const Shard& shard, int degree,
                           std::chrono::steady_clock::time_point start);

}  // namespace scorematch::app
