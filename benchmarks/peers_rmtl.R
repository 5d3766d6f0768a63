# peers_rmtl.R: the RMTL side of benchmarks/peers.py, one long-lived Rscript process.
# The same commands as peers_malsar.m on stdin ("load DIR N D T M", "solve LOSS LAM1 LAM2 TOL
# MAXITER", "quit"); solve runs MTL(..., Regularization = "Graph") from zero, timed alone.
# RMTL itself is not part of mtreg: RMTL_LIB names the library it was installed into.
suppressMessages(library(RMTL, lib.loc = Sys.getenv("RMTL_LIB")))

read_rows <- function(path, rows, cols) {
  matrix(readBin(path, "double", rows * cols), nrow = rows, ncol = cols, byrow = TRUE)
}

input <- file("stdin")
open(input)
repeat {
  line <- readLines(input, n = 1)
  if (length(line) == 0 || line == "quit") break
  w <- strsplit(trimws(line), " +")[[1]]
  if (w[1] == "load") {
    folder <- w[2]
    size <- as.integer(w[3:6])  # n, d, T, m
    task <- rep(seq_len(size[3]), read_rows(file.path(folder, "counts.bin"), size[3], 1))
    X <- read_rows(file.path(folder, "X.bin"), size[1], size[2])
    y <- read_rows(file.path(folder, "y.bin"), size[1], 1)
    Xs <- lapply(split(seq_len(size[1]), task), function(i) X[i, , drop = FALSE])
    Ys <- lapply(split(seq_len(size[1]), task), function(i) y[i, , drop = FALSE])
    G <- read_rows(file.path(folder, "R.bin"), size[3], size[4])
    cat("ok\n")
  } else if (w[1] == "solve") {
    type <- if (w[2] == "squared") "Regression" else "Classification"
    p <- as.numeric(w[3:6])  # Lam1, Lam2, tol, maxIter
    opts <- list(init = 0, tol = p[3], maxIter = p[4])
    seconds <- system.time(m <- MTL(Xs, Ys, type = type, Regularization = "Graph",
                                    Lam1 = p[1], Lam2 = p[2], opts = opts, G = G))[["elapsed"]]
    writeBin(as.vector(m$W), file.path(folder, "W.bin"))  # d x T: T x d row-major
    writeBin(as.vector(m$C), file.path(folder, "C.bin"))
    cat(sprintf("ok %.17g %d\n", seconds, length(m$Obj)))
  } else {
    cat("error: unknown command", w[1], "\n")
  }
  flush(stdout())
}
