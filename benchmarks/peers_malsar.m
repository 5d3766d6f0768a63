1; % peers_malsar.m: the MALSAR side of benchmarks/peers.py, one long-lived Octave process.
% Reads commands on stdin, one per line, answers one line each on stdout:
%   load DIR N D T M                 X.bin (N x D), y.bin (N), counts.bin (T), R.bin (T x M),
%                                    row-major float64, rows grouped by task   -> "ok"
%   solve LOSS RHO1 RHO_L2 TOL MAXITER   Least_SRMTL or Logistic_SRMTL (rho2 = 0), timed alone;
%                                    writes DIR/W.bin (T x D) and DIR/C.bin    -> "ok SECONDS ITERS"
%   quit
% MALSAR itself is not part of mtreg: MALSAR_HOME names a checkout of jiayuzhou/MALSAR.

function A = read_rows(path, rows, cols)
  fid = fopen(path, 'r');
  A = fread(fid, [cols, rows], 'double')';
  fclose(fid);
end

function write_matrix(path, A)
  fid = fopen(path, 'w');
  fwrite(fid, A, 'double');
  fclose(fid);
end

crash_dumps_octave_core(false); sigterm_dumps_octave_core(false);  % no octave-workspace
home = getenv('MALSAR_HOME');
addpath(fullfile(home, 'MALSAR', 'functions', 'SRMTL'), fullfile(home, 'MALSAR', 'utils'));
while true
  line = input('', 's');  % not fgetl(stdin): on a pipe it waits for the end of the input
  if strcmp(line, 'quit')
    break;
  end
  w = strsplit(strtrim(line), ' ');
  if strcmp(w{1}, 'load')
    folder = w{2};
    [n, d, T, m] = deal(str2double(w{3}), str2double(w{4}), str2double(w{5}), str2double(w{6}));
    counts = read_rows(fullfile(folder, 'counts.bin'), T, 1);
    X = mat2cell(read_rows(fullfile(folder, 'X.bin'), n, d), counts, d);
    Y = mat2cell(read_rows(fullfile(folder, 'y.bin'), n, 1), counts, 1);
    R = read_rows(fullfile(folder, 'R.bin'), T, m);
    printf('ok\n');
  elseif strcmp(w{1}, 'solve')
    opts = struct('init', 2, 'tFlag', 1, 'tol', str2double(w{5}), ...
                  'maxIter', str2double(w{6}), 'rho_L2', str2double(w{4}));
    rho1 = str2double(w{3});
    C = zeros(1, T);
    start = tic;
    if strcmp(w{2}, 'squared')
      [W, funcVal] = Least_SRMTL(X, Y, R, rho1, 0, opts);
    else
      [W, C, funcVal] = Logistic_SRMTL(X, Y, R, rho1, 0, opts);
    end
    seconds = toc(start);
    write_matrix(fullfile(folder, 'W.bin'), W);  % d x T column-major: T x d row-major
    write_matrix(fullfile(folder, 'C.bin'), C);
    printf('ok %.17g %d\n', seconds, numel(funcVal));
  else
    printf('error: unknown command %s\n', w{1});
  end
  fflush(stdout);
end
