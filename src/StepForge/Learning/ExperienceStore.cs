using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StepForge.Agents;
using StepForge.Step;
using StepForge.Tasks;

namespace StepForge.Learning;

/// <summary>A stored sample, as reports and the learning loop read it.</summary>
public sealed record StoredSample(
    SampleKey Key,
    string? Group,
    string Verdict,
    string? Impl,
    string? FinalImpl,
    string? Fingerprint,
    long InputTokens,
    long OutputTokens,
    decimal? Cost,
    double ModelSeconds,
    double VerifySeconds,
    int Calls,
    int Rounds,
    bool Cached,
    string Response,
    string VerdictJson)
{
    public bool IsCorrect => Verdict == "correct";
}

/// <summary>
/// The experiment's SQLite file: tasks, prompts, every sample (response, extracted program, verdict, tokens, latency,
/// temperature, setting, model), and calls that failed. Each sample is written when it finishes, in its own
/// transaction, so a killed run loses at most the samples in flight. Safe to use from several threads.
/// </summary>
public sealed class ExperienceStore : ISampleLog, IDisposable
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection connection;
    private readonly Lock gate = new();

    public string Path { get; }

    /// <exception cref="ExperienceStoreException">when the file is not a StepForge store or cannot be opened.</exception>
    public ExperienceStore(string path)
    {
        Path = path;
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;");
            Execute("""
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS tasks(name TEXT PRIMARY KEY, grp TEXT, path TEXT NOT NULL, spec TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS prompts(hash TEXT PRIMARY KEY, system TEXT NOT NULL, user TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS samples(
                    experiment TEXT NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL, setting TEXT NOT NULL,
                    temperature REAL NOT NULL, sample_index INTEGER NOT NULL, grp TEXT,
                    prompt_hash TEXT NOT NULL, response TEXT NOT NULL, guardian_response TEXT,
                    impl TEXT, final_impl TEXT, verdict TEXT NOT NULL, verdict_json TEXT NOT NULL, fingerprint TEXT,
                    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, usage_estimated INTEGER NOT NULL, cost REAL,
                    model_seconds REAL NOT NULL, verify_seconds REAL NOT NULL, calls INTEGER NOT NULL, retries INTEGER NOT NULL,
                    rounds INTEGER NOT NULL, cached INTEGER NOT NULL, created TEXT NOT NULL,
                    PRIMARY KEY(experiment, task, model, setting, temperature, sample_index));
                CREATE TABLE IF NOT EXISTS iterations(
                    run TEXT NOT NULL, iteration INTEGER NOT NULL, level INTEGER NOT NULL, demonstrations TEXT NOT NULL,
                    sampled TEXT NOT NULL, newly_solved TEXT NOT NULL, solved_train INTEGER NOT NULL, solved_test INTEGER NOT NULL,
                    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, created TEXT NOT NULL,
                    PRIMARY KEY(run, iteration));
                CREATE TABLE IF NOT EXISTS errors(
                    experiment TEXT NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL, setting TEXT NOT NULL,
                    temperature REAL NOT NULL, sample_index INTEGER NOT NULL, message TEXT NOT NULL, created TEXT NOT NULL);
                """);
            using var version = connection.CreateCommand();
            version.CommandText = "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', $v); SELECT value FROM meta WHERE key = 'schema'";
            version.Parameters.AddWithValue("$v", SchemaVersion.ToString(CultureInfo.InvariantCulture));
            var stored = (string)version.ExecuteScalar()!;
            if (stored != SchemaVersion.ToString(CultureInfo.InvariantCulture))
                throw new ExperienceStoreException($"{path}: made by another StepForge version (schema {stored}, this one reads {SchemaVersion})");
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new ExperienceStoreException($"{path}: not a StepForge experience store ({e.Message.TrimEnd('.')})", e);
        }
    }

    public void AddTasks(IEnumerable<TaskSpec> tasks)
    {
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            foreach (var task in tasks)
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT OR REPLACE INTO tasks(name, grp, path, spec) VALUES ($n, $g, $p, $s)";
                command.Parameters.AddWithValue("$n", task.Name);
                command.Parameters.AddWithValue("$g", (object?)task.Group ?? DBNull.Value);
                command.Parameters.AddWithValue("$p", task.SourcePath);
                command.Parameters.AddWithValue("$s", TaskWriter.Write(task));
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>The stored tasks by name, read back from the YAML they were stored as.</summary>
    /// <exception cref="TaskFileException">when a stored task no longer loads.</exception>
    public IReadOnlyDictionary<string, TaskSpec> Tasks()
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name, path, spec FROM tasks ORDER BY name";
            using var reader = command.ExecuteReader();
            var result = new Dictionary<string, TaskSpec>(StringComparer.Ordinal);
            while (reader.Read()) result[reader.GetString(0)] = TaskReader.Read(reader.GetString(2), reader.GetString(1));
            return result;
        }
    }

    public bool IsDone(SampleKey key)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1 FROM samples WHERE experiment = $e AND task = $t AND model = $m AND setting = $s AND temperature = $temp AND sample_index = $i";
            Bind(command, key);
            return command.ExecuteScalar() is not null;
        }
    }

    public void Record(SampleRecord r)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(r.Prompt.System + "\u0000" + r.Prompt.User)))[..32];
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            using (var prompt = connection.CreateCommand())
            {
                prompt.Transaction = transaction;
                prompt.CommandText = "INSERT OR IGNORE INTO prompts(hash, system, user) VALUES ($h, $s, $u)";
                prompt.Parameters.AddWithValue("$h", hash);
                prompt.Parameters.AddWithValue("$s", r.Prompt.System);
                prompt.Parameters.AddWithValue("$u", r.Prompt.User);
                prompt.ExecuteNonQuery();
            }
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT OR REPLACE INTO samples(experiment, task, model, setting, temperature, sample_index, grp, prompt_hash, response,
                        guardian_response, impl, final_impl, verdict, verdict_json, fingerprint, input_tokens, output_tokens, usage_estimated,
                        cost, model_seconds, verify_seconds, calls, retries, rounds, cached, created)
                    VALUES ($e, $t, $m, $s, $temp, $i, $g, $h, $resp, $guard, $impl, $final, $v, $vj, $fp, $in, $out, $est, $cost, $ms, $vs,
                        $calls, $retries, $rounds, $cached, $created)
                    """;
                Bind(command, r.Key);
                command.Parameters.AddWithValue("$g", (object?)r.Group ?? DBNull.Value);
                command.Parameters.AddWithValue("$h", hash);
                command.Parameters.AddWithValue("$resp", r.Response);
                command.Parameters.AddWithValue("$guard", (object?)r.GuardianResponse ?? DBNull.Value);
                command.Parameters.AddWithValue("$impl", (object?)r.Impl ?? DBNull.Value);
                command.Parameters.AddWithValue("$final", (object?)r.FinalImpl ?? DBNull.Value);
                command.Parameters.AddWithValue("$v", Verdict.KindName(r.Verdict.Kind));
                command.Parameters.AddWithValue("$vj", r.Verdict.ToJson());
                command.Parameters.AddWithValue("$fp", (object?)r.Fingerprint ?? DBNull.Value);
                command.Parameters.AddWithValue("$in", r.InputTokens);
                command.Parameters.AddWithValue("$out", r.OutputTokens);
                command.Parameters.AddWithValue("$est", r.UsageEstimated ? 1 : 0);
                command.Parameters.AddWithValue("$cost", r.Cost is { } cost ? (double)cost : DBNull.Value);
                command.Parameters.AddWithValue("$ms", r.ModelSeconds);
                command.Parameters.AddWithValue("$vs", r.VerifySeconds);
                command.Parameters.AddWithValue("$calls", r.Calls);
                command.Parameters.AddWithValue("$retries", r.Retries);
                command.Parameters.AddWithValue("$rounds", r.Rounds);
                command.Parameters.AddWithValue("$cached", r.Cached ? 1 : 0);
                command.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    public void RecordError(SampleKey key, string message)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO errors(experiment, task, model, setting, temperature, sample_index, message, created) VALUES ($e, $t, $m, $s, $temp, $i, $msg, $created)";
            Bind(command, key);
            command.Parameters.AddWithValue("$msg", message);
            command.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Stored samples, optionally of one experiment only, in a stable order.</summary>
    public IReadOnlyList<StoredSample> Samples(string? experiment = null)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT experiment, task, model, setting, temperature, sample_index, grp, verdict, impl, final_impl, fingerprint,
                       input_tokens, output_tokens, cost, model_seconds, verify_seconds, calls, rounds, cached, response, verdict_json
                FROM samples WHERE ($e IS NULL OR experiment = $e)
                ORDER BY experiment, model, setting, task, temperature, sample_index
                """;
            command.Parameters.AddWithValue("$e", (object?)experiment ?? DBNull.Value);
            using var reader = command.ExecuteReader();
            var result = new List<StoredSample>();
            while (reader.Read())
            {
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                result.Add(new StoredSample(
                    new SampleKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetDouble(4), (int)reader.GetInt64(5)),
                    Text(6), reader.GetString(7), Text(8), Text(9), Text(10), reader.GetInt64(11), reader.GetInt64(12),
                    reader.IsDBNull(13) ? null : (decimal)reader.GetDouble(13), reader.GetDouble(14), reader.GetDouble(15),
                    (int)reader.GetInt64(16), (int)reader.GetInt64(17), reader.GetInt64(18) != 0, reader.GetString(19), reader.GetString(20)));
            }
            return result;
        }
    }

    /// <summary>Failed calls, newest last.</summary>
    public IReadOnlyList<(SampleKey Key, string Message)> Errors(string? experiment = null)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT experiment, task, model, setting, temperature, sample_index, message FROM errors WHERE ($e IS NULL OR experiment = $e) ORDER BY rowid";
            command.Parameters.AddWithValue("$e", (object?)experiment ?? DBNull.Value);
            using var reader = command.ExecuteReader();
            var result = new List<(SampleKey, string)>();
            while (reader.Read())
                result.Add((new SampleKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetDouble(4), (int)reader.GetInt64(5)),
                    reader.GetString(6)));
            return result;
        }
    }

    /// <summary>Stores an iteration of the self-improvement loop (a replayed iteration replaces itself).</summary>
    public void RecordIteration(string run, IterationRecord r)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT OR REPLACE INTO iterations(run, iteration, level, demonstrations, sampled, newly_solved, solved_train, solved_test,
                    input_tokens, output_tokens, created)
                VALUES ($run, $i, $level, $demos, $sampled, $new, $train, $test, $in, $out, $created)
                """;
            command.Parameters.AddWithValue("$run", run);
            command.Parameters.AddWithValue("$i", r.Iteration);
            command.Parameters.AddWithValue("$level", r.Level);
            command.Parameters.AddWithValue("$demos", JsonSerializer.Serialize(r.Demonstrations));
            command.Parameters.AddWithValue("$sampled", JsonSerializer.Serialize(r.Sampled));
            command.Parameters.AddWithValue("$new", JsonSerializer.Serialize(r.NewlySolved));
            command.Parameters.AddWithValue("$train", r.SolvedTrain);
            command.Parameters.AddWithValue("$test", r.SolvedTest);
            command.Parameters.AddWithValue("$in", r.InputTokens);
            command.Parameters.AddWithValue("$out", r.OutputTokens);
            command.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The stored iterations of every self-improvement run (or of one), in order.</summary>
    public IReadOnlyList<(string Run, IterationRecord Iteration)> Iterations(string? run = null)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT run, iteration, level, demonstrations, sampled, newly_solved, solved_train, solved_test, input_tokens, output_tokens
                FROM iterations WHERE ($run IS NULL OR run = $run) ORDER BY run, iteration
                """;
            command.Parameters.AddWithValue("$run", (object?)run ?? DBNull.Value);
            using var reader = command.ExecuteReader();
            var result = new List<(string, IterationRecord)>();
            static IReadOnlyList<string> List(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];
            while (reader.Read())
                result.Add((reader.GetString(0), new IterationRecord((int)reader.GetInt64(1), (int)reader.GetInt64(2), List(reader.GetString(3)),
                    List(reader.GetString(4)), List(reader.GetString(5)), (int)reader.GetInt64(6), (int)reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9))));
            return result;
        }
    }

    private static void Bind(SqliteCommand command, SampleKey key)
    {
        command.Parameters.AddWithValue("$e", key.Experiment);
        command.Parameters.AddWithValue("$t", key.Task);
        command.Parameters.AddWithValue("$m", key.Model);
        command.Parameters.AddWithValue("$s", key.Setting);
        command.Parameters.AddWithValue("$temp", key.Temperature);
        command.Parameters.AddWithValue("$i", key.Index);
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => connection.Dispose();
}

public sealed class ExperienceStoreException(string message, Exception? inner = null) : Exception(message, inner);
