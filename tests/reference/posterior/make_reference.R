# Reference values of Stan's R package `posterior` for scorematch's convergence diagnostics
# (src/diagnostics/convergence.cpp, checked by tests/test_diagnostics.cpp, test
# Diagnostics.MatchesPosteriorReference).
#
# Rerun from the repository root (Debian 12: apt-get install r-cran-posterior):
#   Rscript tests/reference/posterior/make_reference.R
# It rewrites tests/reference/posterior/reference.json deterministically (set.seed below); the
# values in the committed file were made by posterior 1.4.0 on R 4.2.2 (Debian 12 r-cran-posterior
# 1.4.0); the versions that made a file are also recorded inside it ("posterior_version",
# "r_version").
#
# Each set is a chains x draws matrix of draws of one quantity (JSON "values"[m][n] = chain m,
# iteration n), plus what posterior reports for it: mean, sd, quantile2 (type 7) q5/q50/q95, rhat,
# ess_bulk, ess_tail, ess_mean, mcse_mean, mcse_sd, mcse_quantile q5/q95 and mcse_median, each
# computed by summarise_draws() on a draws_array (iterations x chains x 1 variable) and written
# with sprintf("%.17g"). NA and NaN are written as null; +-Inf as the strings "Inf" / "-Inf" (in the
# draws as well, where "NaN" is a NaN draw).
#
# Sets: every kind (iid normal, AR(1) rho = 0.9 and 0.99, one chain shifted by +2, Student-t with 1
# and 3 degrees of freedom) in every shape (8 x 200, 2 x 50, 4 x 7), plus edge cases for
# posterior's NA rules: constant draws, one draw per chain, 5 draws per chain (split chains too
# short for the ESS), a single chain, two values in equal numbers (constant folded draws), a
# constant 95% indicator, an Inf draw, a NaN draw, chains constant within but different between,
# and draws on a 1e-9 scale (posterior's absolute tolerance makes the squared deviations "constant").

suppressPackageStartupMessages(library(posterior))

out_file <- file.path("tests", "reference", "posterior", "reference.json")
if (!dir.exists(dirname(out_file))) {
  stop("run from the repository root: Rscript tests/reference/posterior/make_reference.R")
}

set.seed(20240611)

ar1 <- function(chains, draws, rho) {
  x <- matrix(0, draws, chains)
  for (m in seq_len(chains)) {
    v <- rnorm(1)  # stationary start, unit marginal variance
    for (t in seq_len(draws)) {
      x[t, m] <- v
      v <- rho * v + sqrt(1 - rho^2) * rnorm(1)
    }
  }
  x
}
kinds <- list(
  iid = list(label = "iid normal", make = function(m, n) matrix(rnorm(m * n), n, m)),
  ar09 = list(label = "AR(1) rho = 0.9", make = function(m, n) ar1(m, n, 0.9)),
  ar099 = list(label = "AR(1) rho = 0.99", make = function(m, n) ar1(m, n, 0.99)),
  shifted = list(label = "iid normal, chain 1 shifted by +2", make = function(m, n) {
    x <- matrix(rnorm(m * n), n, m)
    x[, 1] <- x[, 1] + 2
    x
  }),
  t1 = list(label = "Student-t, 1 dof", make = function(m, n) matrix(rt(m * n, df = 1), n, m)),
  t3 = list(label = "Student-t, 3 dof", make = function(m, n) matrix(rt(m * n, df = 3), n, m))
)
shapes <- list(c(8, 200), c(2, 50), c(4, 7))  # chains, draws

sets <- list()
add <- function(name, kind, x) {  # x: draws x chains, as posterior wants it
  sets[[length(sets) + 1]] <<- list(name = name, kind = kind, x = x)
}
for (k in names(kinds)) {
  for (s in shapes) {
    add(sprintf("%s_%dx%d", k, s[1], s[2]), kinds[[k]]$label, kinds[[k]]$make(s[1], s[2]))
  }
}
add("constant_4x10", "constant draws", matrix(1.5, 10, 4))
add("single_draw_16x1", "one draw per chain", matrix(rnorm(16), 1, 16))
add("five_draws_4x5", "5 draws per chain", matrix(rnorm(20), 5, 4))
add("single_chain_1x50", "one AR(1) rho = 0.5 chain", ar1(1, 50, 0.5))
add("binary_4x10", "0/1 draws, 20 of each", matrix(sample(rep(c(0, 1), 20)), 10, 4))
add("ties_tail_4x20", "min(round(normal), 1): constant 95% indicator",
    matrix(pmin(round(rnorm(80)), 1), 20, 4))
inf_x <- matrix(rnorm(80), 20, 4)
inf_x[7, 3] <- Inf
add("inf_draw_4x20", "iid normal with one Inf draw", inf_x)
nan_x <- matrix(rnorm(80), 20, 4)
nan_x[12, 2] <- NaN
add("nan_draw_4x20", "iid normal with one NaN draw", nan_x)
add("within_constant_3x10", "chains constant within (0, 0, 1)",
    cbind(rep(0, 10), rep(0, 10), rep(1, 10)))
add("tiny_scale_4x20", "iid normal times 1e-9", matrix(1e-9 * rnorm(80), 20, 4))

num <- function(v) {
  v <- as.numeric(v)
  if (is.na(v)) return("null")  # NA and NaN
  if (is.infinite(v)) return(if (v > 0) "\"Inf\"" else "\"-Inf\"")
  sprintf("%.17g", v)
}
draw <- function(v) {
  if (is.nan(v)) return("\"NaN\"")
  num(v)
}

stats <- c("mean", "sd", "q5", "q50", "q95", "rhat", "ess_bulk", "ess_tail", "ess_mean",
           "mcse_mean", "mcse_sd", "mcse_q5", "mcse_q95", "mcse_median")
summarise_set <- function(x) {
  d <- as_draws_array(array(x, dim = c(nrow(x), ncol(x), 1),
                            dimnames = list(NULL, NULL, "theta")))
  s <- suppressWarnings(summarise_draws(
    d, mean, sd, ~quantile2(.x, probs = c(0.05, 0.5, 0.95)), rhat, ess_bulk, ess_tail, ess_mean,
    mcse_mean, mcse_sd, ~mcse_quantile(.x, probs = c(0.05, 0.95)), mcse_median))
  vapply(stats, function(k) as.numeric(unclass(s[[k]])), numeric(1))
}

lines <- c("{",
           sprintf("  \"generator\": \"tests/reference/posterior/make_reference.R\","),
           sprintf("  \"posterior_version\": \"%s\",", as.character(packageVersion("posterior"))),
           sprintf("  \"r_version\": \"%s\",", R.version.string),
           "  \"layout\": \"values[m][n] = chain m, iteration n; null = NA/NaN\",",
           "  \"sets\": [")
for (i in seq_along(sets)) {
  set <- sets[[i]]
  x <- set$x
  v <- summarise_set(x)
  chains <- vapply(seq_len(ncol(x)), function(m) {
    paste0("[", paste(vapply(x[, m], draw, ""), collapse = ", "), "]")
  }, "")
  expected <- paste(sprintf("\"%s\": %s", stats, vapply(v, num, "")), collapse = ", ")
  lines <- c(lines,
             "    {",
             sprintf("      \"name\": \"%s\", \"kind\": \"%s\", \"chains\": %d, \"draws\": %d,",
                     set$name, set$kind, ncol(x), nrow(x)),
             sprintf("      \"expected\": {%s},", expected),
             sprintf("      \"values\": [%s]", paste(chains, collapse = ",\n        ")),
             if (i < length(sets)) "    }," else "    }")
}
lines <- c(lines, "  ]", "}")
writeLines(lines, out_file)
cat("wrote", out_file, "with", length(sets), "sets (posterior",
    as.character(packageVersion("posterior")), ")\n")
