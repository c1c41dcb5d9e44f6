using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StepForge.Agents;
using StepForge.Cost;
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
    string VerdictJson,
    CostSummary? Performance = null)
{
    public bool IsCorrect => Verdict == "correct";
}

/// <summary>A task's reference program as the store keeps it: its cost, or why it has none.</summary>
/// <param name="Status">"costed", "none" (the task has no impl:), or the verdict kind that stopped the costing.</param>
public sealed record ReferenceCost(string Status, CostSummary? Cost);

/// <summary>
/// The experiment's SQLite file: tasks (with their reference program's cost), prompts, every sample (response,
/// extracted program, verdict, cost of a correct program, tokens, latency, temperature, setting, model), and calls
/// that failed. Each sample is written when it finishes, in its own transaction, so a killed run loses at most the
/// samples in flight. Safe to use from several threads. Each experiment's definition is recorded under its name, so
/// that one name always means one experiment. Older stores are migrated on opening: schema 1 (before costs) and
/// schema 2 (before experiment definitions, which are then rebuilt from the samples).
/// </summary>
public sealed class ExperienceStore : ISampleLog, IDisposable
{
    private const int SchemaVersion = 3;

    /// <summary>The headline cost figures, as columns of samples (and, prefixed ref_, of tasks).</summary>
    private static readonly string[] CostColumns = ["cycles", "onchip_bytes", "offchip_bytes", "flops", "lower_bound", "fifo_deadlock", "required_fifo_depth"];
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public string Path { get; }

    /// <exception cref="ExperienceStoreException">when the file is not a StepForge store or cannot be opened.</exception>
    public ExperienceStore(string path)
    {
        Path = path;
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;");
            Execute("""
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS tasks(name TEXT PRIMARY KEY, grp TEXT, path TEXT NOT NULL, spec TEXT NOT NULL,
                    ref_status TEXT, ref_cycles INTEGER, ref_onchip_bytes INTEGER, ref_offchip_bytes INTEGER, ref_flops INTEGER,
                    ref_lower_bound INTEGER, ref_fifo_deadlock INTEGER, ref_required_fifo_depth INTEGER);
                CREATE TABLE IF NOT EXISTS prompts(hash TEXT PRIMARY KEY, system TEXT NOT NULL, user TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS samples(
                    experiment TEXT NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL, setting TEXT NOT NULL,
                    temperature REAL NOT NULL, sample_index INTEGER NOT NULL, grp TEXT,
                    prompt_hash TEXT NOT NULL, response TEXT NOT NULL, guardian_response TEXT,
                    impl TEXT, final_impl TEXT, verdict TEXT NOT NULL, verdict_json TEXT NOT NULL, fingerprint TEXT,
                    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, usage_estimated INTEGER NOT NULL, cost REAL,
                    model_seconds REAL NOT NULL, verify_seconds REAL NOT NULL, calls INTEGER NOT NULL, retries INTEGER NOT NULL,
                    rounds INTEGER NOT NULL, cached INTEGER NOT NULL, created TEXT NOT NULL,
                    cycles INTEGER, onchip_bytes INTEGER, offchip_bytes INTEGER, flops INTEGER, lower_bound INTEGER,
                    fifo_deadlock INTEGER, required_fifo_depth INTEGER,
                    PRIMARY KEY(experiment, task, model, setting, temperature, sample_index));
                CREATE TABLE IF NOT EXISTS iterations(
                    run TEXT NOT NULL, iteration INTEGER NOT NULL, level INTEGER NOT NULL, demonstrations TEXT NOT NULL,
                    sampled TEXT NOT NULL, newly_solved TEXT NOT NULL, solved_train INTEGER NOT NULL, solved_test INTEGER NOT NULL,
                    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, created TEXT NOT NULL,
                    PRIMARY KEY(run, iteration));
                CREATE TABLE IF NOT EXISTS errors(
                    experiment TEXT NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL, setting TEXT NOT NULL,
                    temperature REAL NOT NULL, sample_index INTEGER NOT NULL, message TEXT NOT NULL, created TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS experiments(
                    name TEXT PRIMARY KEY, definition TEXT NOT NULL, command_line TEXT, version TEXT, created TEXT NOT NULL);
                """);
            using var version = _connection.CreateCommand();
            version.CommandText = "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', $v); SELECT value FROM meta WHERE key = 'schema'";
            version.Parameters.AddWithValue("$v", SchemaVersion.ToString(CultureInfo.InvariantCulture));
            var stored = (string)version.ExecuteScalar()!;
            if (stored == "1") MigrateToCosts();
            if (stored is "1" or "2") MigrateToDefinitions();
            else if (stored != SchemaVersion.ToString(CultureInfo.InvariantCulture))
                throw new ExperienceStoreException($"{path}: made by another StepForge version (schema {stored}, this one reads {SchemaVersion})");
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new ExperienceStoreException($"{path}: not a StepForge experience store ({e.Message.TrimEnd('.')})", e);
        }
    }

    /// <summary>
    /// Schema 1 → 2: the cost columns of samples and of tasks' reference programs (ALTER TABLE keeps every row; old
    /// samples have no cost, old tasks get their reference cost the next time they are added).
    /// </summary>
    private void MigrateToCosts()
    {
        using var transaction = _connection.BeginTransaction();
        void AddColumns(string table, IEnumerable<(string Name, string Type)> columns)
        {
            var existing = new HashSet<string>(StringComparer.Ordinal);
            using (var info = _connection.CreateCommand())
            {
                info.Transaction = transaction;
                info.CommandText = $"PRAGMA table_info({table})";
                using var reader = info.ExecuteReader();
                while (reader.Read()) existing.Add(reader.GetString(1));
            }
            foreach (var (name, type) in columns.Where(c => !existing.Contains(c.Name)))
            {
                using var alter = _connection.CreateCommand();
                alter.Transaction = transaction;
                alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {name} {type}";
                alter.ExecuteNonQuery();
            }
        }
        AddColumns("samples", CostColumns.Select(c => (c, "INTEGER")));
        AddColumns("tasks", [("ref_status", "TEXT"), .. CostColumns.Select(c => ("ref_" + c, "INTEGER"))]);
        SetSchema(transaction, 2);
        transaction.Commit();
    }

    /// <summary>
    /// Schema 2 → 3: the experiments table, with a definition rebuilt from the samples of every experiment the store
    /// holds (an improve run's iterations are one experiment): the command (improve when it has iterations), its model
    /// and setting when it used one of each, and the tasks it sampled (iteration 0's for an improve run) with the hash
    /// of their stored specs. Options were not recorded: the first command that continues the experiment records them.
    /// </summary>
    private void MigrateToDefinitions()
    {
        using var transaction = _connection.BeginTransaction();
        SqliteCommand Command(string sql)
        {
            var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            return command;
        }
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var command = Command("SELECT name, spec FROM tasks"))
        using (var reader = command.ExecuteReader())
            while (reader.Read()) digests[reader.GetString(0)] = ExperimentDefinition.DigestOf(reader.GetString(1));
        var runs = new Dictionary<string, (HashSet<string> Models, HashSet<string> Settings, HashSet<string> Tasks, bool Improve, string Created)>(StringComparer.Ordinal);
        using (var command = Command("SELECT experiment, model, setting, task, MIN(created) FROM samples GROUP BY experiment, model, setting, task"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var experiment = reader.GetString(0);
                var name = SelfImprovement.RunOf(experiment);
                if (!runs.TryGetValue(name, out var run))
                    runs[name] = run = ([], [], [], false, reader.GetString(4));
                run.Models.Add(reader.GetString(1));
                run.Settings.Add(reader.GetString(2));
                run.Tasks.Add(reader.GetString(3));
                runs[name] = run with { Improve = run.Improve || name != experiment, Created = string.CompareOrdinal(reader.GetString(4), run.Created) < 0 ? reader.GetString(4) : run.Created };
            }
        using (var command = Command("SELECT run, sampled FROM iterations WHERE iteration = 0"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                if (runs.TryGetValue(reader.GetString(0), out var run))
                    runs[reader.GetString(0)] = run with { Tasks = [.. JsonSerializer.Deserialize(reader.GetString(1), LearningJson.Style.ListString) ?? []], Improve = true };
        foreach (var (name, run) in runs)
        {
            static string? One(HashSet<string> values) => values.Count == 1 ? values.First() : null;
            var definition = new ExperimentDefinition(run.Improve ? "improve" : "run", One(run.Models), One(run.Settings),
                run.Tasks.Order(StringComparer.Ordinal).ToDictionary(t => t, t => digests.GetValueOrDefault(t, ""), StringComparer.Ordinal),
                new Dictionary<string, string>(), new Dictionary<string, string>(), Reconstructed: true);
            using var insert = Command("INSERT OR IGNORE INTO experiments(name, definition, command_line, version, created) VALUES ($n, $d, NULL, NULL, $c)");
            insert.Parameters.AddWithValue("$n", name);
            insert.Parameters.AddWithValue("$d", JsonSerializer.Serialize(definition, LearningJson.Style.ExperimentDefinition));
            insert.Parameters.AddWithValue("$c", run.Created);
            insert.ExecuteNonQuery();
        }
        SetSchema(transaction, 3);
        transaction.Commit();
    }

    private void SetSchema(SqliteTransaction transaction, int schema)
    {
        using var version = _connection.CreateCommand();
        version.Transaction = transaction;
        version.CommandText = "UPDATE meta SET value = $v WHERE key = 'schema'";
        version.Parameters.AddWithValue("$v", schema.ToString(CultureInfo.InvariantCulture));
        version.ExecuteNonQuery();
    }

    /// <summary>
    /// Opens the experiment <paramref name="name"/>: records it when the store has none of that name, continues it
    /// when its definition is the same (a reconstructed one then takes the whole definition), and otherwise changes
    /// nothing and says how the definitions differ.
    /// </summary>
    public (ExperimentOpening Opening, string? Difference) OpenExperiment(string name, ExperimentDefinition definition, string? commandLine, string? version)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            SqliteCommand Command(string sql)
            {
                var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = sql;
                command.Parameters.AddWithValue("$n", name);
                command.Parameters.AddWithValue("$d", JsonSerializer.Serialize(definition, LearningJson.Style.ExperimentDefinition));
                command.Parameters.AddWithValue("$line", (object?)commandLine ?? DBNull.Value);
                command.Parameters.AddWithValue("$v", (object?)version ?? DBNull.Value);
                command.Parameters.AddWithValue("$c", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                return command;
            }
            string? storedJson;
            using (var read = Command("SELECT definition FROM experiments WHERE name = $n"))
                storedJson = read.ExecuteScalar() as string;
            if (storedJson is null)
            {
                using var insert = Command("INSERT INTO experiments(name, definition, command_line, version, created) VALUES ($n, $d, $line, $v, $c)");
                insert.ExecuteNonQuery();
                transaction.Commit();
                return (ExperimentOpening.Created, null);
            }
            var stored = ReadDefinition(storedJson);
            if (stored.Difference(definition) is { } difference) return (ExperimentOpening.Refused, difference);
            if (stored.Reconstructed)
            {
                using var update = Command("UPDATE experiments SET definition = $d, command_line = $line, version = $v WHERE name = $n");
                update.ExecuteNonQuery();
            }
            transaction.Commit();
            return (ExperimentOpening.Resumed, null);
        }
    }

    /// <summary>Every experiment the store holds, by name.</summary>
    public IReadOnlyList<ExperimentRecord> Experiments()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT name, definition, command_line, version, created FROM experiments ORDER BY name";
            using var reader = command.ExecuteReader();
            var result = new List<ExperimentRecord>();
            while (reader.Read())
                result.Add(new ExperimentRecord(reader.GetString(0), ReadDefinition(reader.GetString(1)),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4)));
            return result;
        }
    }

    private ExperimentDefinition ReadDefinition(string json) =>
        JsonSerializer.Deserialize(json, LearningJson.Style.ExperimentDefinition)
        ?? throw new ExperienceStoreException($"{Path}: an experiment's definition is not readable");

    /// <summary>
    /// Stores the tasks and the cost of each one's reference program (its own impl:, on the default machine). A task
    /// stored before with the same spec keeps its reference cost, so it is computed once per task and store.
    /// </summary>
    public void AddTasks(IEnumerable<TaskSpec> tasks)
    {
        var list = tasks.ToList();
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var task in list)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                // A changed spec drops the reference cost it had (SET reads the old row's values).
                command.CommandText = $"""
                    INSERT INTO tasks(name, grp, path, spec) VALUES ($n, $g, $p, $s)
                    ON CONFLICT(name) DO UPDATE SET grp = excluded.grp, path = excluded.path, spec = excluded.spec,
                        ref_status = CASE WHEN tasks.spec = excluded.spec THEN tasks.ref_status END,
                        {string.Join(", ", CostColumns.Select(c => $"ref_{c} = CASE WHEN tasks.spec = excluded.spec THEN tasks.ref_{c} END"))}
                    """;
                command.Parameters.AddWithValue("$n", task.Name);
                command.Parameters.AddWithValue("$g", (object?)task.Group ?? DBNull.Value);
                command.Parameters.AddWithValue("$p", task.SourcePath);
                command.Parameters.AddWithValue("$s", TaskWriter.Write(task));
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        FillInCosts(list.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal));
    }

    /// <summary>
    /// Computes the costs the store lacks and keeps them: the reference program's of every task not costed yet, and
    /// those of correct samples stored without one (by a StepForge from before the cost model). Tasks come from
    /// <paramref name="known"/> or, failing that, from the spec stored with them.
    /// </summary>
    /// <returns>How many costs were filled in.</returns>
    public int FillInCosts(IReadOnlyDictionary<string, TaskSpec>? known = null)
    {
        var stored = new Dictionary<string, (string Path, string Spec, bool Uncosted)>(StringComparer.Ordinal);
        var samples = new List<(long Row, string Task, string Program)>();
        lock (_gate)
        {
            using (var command = _connection.CreateCommand())
            {
                command.CommandText = "SELECT name, path, spec, ref_status IS NULL FROM tasks";
                using var reader = command.ExecuteReader();
                while (reader.Read()) stored[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2), reader.GetInt64(3) != 0);
            }
            using (var command = _connection.CreateCommand())
            {
                command.CommandText = "SELECT rowid, task, final_impl FROM samples WHERE verdict = 'correct' AND cycles IS NULL AND final_impl IS NOT NULL ORDER BY rowid";
                using var reader = command.ExecuteReader();
                while (reader.Read()) samples.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }
        var work = stored.Where(kv => kv.Value.Uncosted).Select(kv => kv.Key).Concat(samples.Select(s => s.Task)).Distinct().Order(StringComparer.Ordinal).ToList();
        var references = new Dictionary<string, ReferenceCost>(StringComparer.Ordinal);
        var costs = new Dictionary<long, CostSummary>();
        Parallel.ForEach(work, name =>
        {
            TaskSpec? task = known?.GetValueOrDefault(name);
            if (task is null && stored.TryGetValue(name, out var row))
            {
                try { task = TaskReader.Read(row.Spec, row.Path) with { Name = name }; }
                catch (TaskFileException) { return; }
            }
            if (task is null) return;
            // A reference program that consumes a stream twice (12 of upstream's) is costed with its Copy ops inserted, as it must run.
            var coster = new TaskCost(task, new CostOptions(RepairAffine: true));
            if (stored.TryGetValue(name, out var entry) && entry.Uncosted)
            {
                var estimate = coster.Reference;
                var reference = estimate is null ? new ReferenceCost("none", null)
                    : estimate.Cost is { } cost ? new ReferenceCost("costed", cost.Summary)
                    : new ReferenceCost(Verdict.KindName(estimate.Problem!.Kind), null);
                lock (references) references[name] = reference;
            }
            foreach (var sample in samples.Where(s => s.Task == name))
                if (coster.Estimate(sample.Program).Cost is { } cost)
                    lock (costs) costs[sample.Row] = cost.Summary;
        });
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var (name, reference) in references)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = $"UPDATE tasks SET ref_status = $status, {string.Join(", ", CostColumns.Select(c => $"ref_{c} = ${c}"))} WHERE name = $n";
                command.Parameters.AddWithValue("$n", name);
                command.Parameters.AddWithValue("$status", reference.Status);
                BindCost(command, reference.Cost);
                command.ExecuteNonQuery();
            }
            foreach (var (row, cost) in costs)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = $"UPDATE samples SET {string.Join(", ", CostColumns.Select(c => $"{c} = ${c}"))} WHERE rowid = $row";
                command.Parameters.AddWithValue("$row", row);
                BindCost(command, cost);
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return references.Count + costs.Count;
    }

    /// <summary>The reference cost of every stored task that has been costed, by task name.</summary>
    public IReadOnlyDictionary<string, ReferenceCost> ReferenceCosts()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT name, ref_status, {string.Join(", ", CostColumns.Select(c => "ref_" + c))} FROM tasks WHERE ref_status IS NOT NULL ORDER BY name";
            using var reader = command.ExecuteReader();
            var result = new Dictionary<string, ReferenceCost>(StringComparer.Ordinal);
            while (reader.Read()) result[reader.GetString(0)] = new ReferenceCost(reader.GetString(1), ReadCost(reader, 2));
            return result;
        }
    }

    private static void BindCost(SqliteCommand command, CostSummary? cost)
    {
        static object V(long? v) => v is long x ? x : DBNull.Value;
        command.Parameters.AddWithValue("$cycles", V(cost?.Cycles));
        command.Parameters.AddWithValue("$onchip_bytes", V(cost?.OnChipBytes));
        command.Parameters.AddWithValue("$offchip_bytes", V(cost?.OffChipBytes));
        command.Parameters.AddWithValue("$flops", V(cost?.Flops));
        command.Parameters.AddWithValue("$lower_bound", V(cost?.LowerBound));
        command.Parameters.AddWithValue("$fifo_deadlock", V(cost is null ? null : cost.FifoDeadlock ? 1 : 0));
        command.Parameters.AddWithValue("$required_fifo_depth", V(cost?.RequiredFifoDepth));
    }

    /// <summary>The cost columns from <paramref name="first"/> on (in <see cref="CostColumns"/> order); null when there is no cost.</summary>
    private static CostSummary? ReadCost(SqliteDataReader reader, int first)
    {
        if (reader.IsDBNull(first)) return null;
        long At(int i) => reader.GetInt64(first + i);
        return new CostSummary(At(0), At(1), At(2), At(3), At(4), At(5) != 0, reader.IsDBNull(first + 6) ? null : At(6));
    }

    /// <summary>The stored tasks by name, read back from the YAML they were stored as.</summary>
    /// <exception cref="TaskFileException">when a stored task no longer loads.</exception>
    public IReadOnlyDictionary<string, TaskSpec> Tasks()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT name, path, spec FROM tasks ORDER BY name";
            using var reader = command.ExecuteReader();
            var result = new Dictionary<string, TaskSpec>(StringComparer.Ordinal);
            while (reader.Read()) result[reader.GetString(0)] = TaskReader.Read(reader.GetString(2), reader.GetString(1));
            return result;
        }
    }

    public bool IsDone(SampleKey key)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT 1 FROM samples WHERE experiment = $e AND task = $t AND model = $m AND setting = $s AND temperature = $temp AND sample_index = $i";
            Bind(command, key);
            return command.ExecuteScalar() is not null;
        }
    }

    public void Record(SampleRecord r)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(r.Prompt.System + "\u0000" + r.Prompt.User)))[..32];
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var prompt = _connection.CreateCommand())
            {
                prompt.Transaction = transaction;
                prompt.CommandText = "INSERT OR IGNORE INTO prompts(hash, system, user) VALUES ($h, $s, $u)";
                prompt.Parameters.AddWithValue("$h", hash);
                prompt.Parameters.AddWithValue("$s", r.Prompt.System);
                prompt.Parameters.AddWithValue("$u", r.Prompt.User);
                prompt.ExecuteNonQuery();
            }
            using (var command = _connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT OR REPLACE INTO samples(experiment, task, model, setting, temperature, sample_index, grp, prompt_hash, response,
                        guardian_response, impl, final_impl, verdict, verdict_json, fingerprint, input_tokens, output_tokens, usage_estimated,
                        cost, model_seconds, verify_seconds, calls, retries, rounds, cached, created,
                        cycles, onchip_bytes, offchip_bytes, flops, lower_bound, fifo_deadlock, required_fifo_depth)
                    VALUES ($e, $t, $m, $s, $temp, $i, $g, $h, $resp, $guard, $impl, $final, $v, $vj, $fp, $in, $out, $est, $cost, $ms, $vs,
                        $calls, $retries, $rounds, $cached, $created,
                        $cycles, $onchip_bytes, $offchip_bytes, $flops, $lower_bound, $fifo_deadlock, $required_fifo_depth)
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
                BindCost(command, r.Verdict.IsCorrect ? r.Verdict.Cost?.Summary : null);
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    public void RecordError(SampleKey key, string message)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
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
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT experiment, task, model, setting, temperature, sample_index, grp, verdict, impl, final_impl, fingerprint,
                       input_tokens, output_tokens, cost, model_seconds, verify_seconds, calls, rounds, cached, response, verdict_json,
                       cycles, onchip_bytes, offchip_bytes, flops, lower_bound, fifo_deadlock, required_fifo_depth
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
                    (int)reader.GetInt64(16), (int)reader.GetInt64(17), reader.GetInt64(18) != 0, reader.GetString(19), reader.GetString(20),
                    ReadCost(reader, 21)));
            }
            return result;
        }
    }

    /// <summary>Failed calls, newest last.</summary>
    public IReadOnlyList<(SampleKey Key, string Message)> Errors(string? experiment = null)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
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
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT OR REPLACE INTO iterations(run, iteration, level, demonstrations, sampled, newly_solved, solved_train, solved_test,
                    input_tokens, output_tokens, created)
                VALUES ($run, $i, $level, $demos, $sampled, $new, $train, $test, $in, $out, $created)
                """;
            command.Parameters.AddWithValue("$run", run);
            command.Parameters.AddWithValue("$i", r.Iteration);
            command.Parameters.AddWithValue("$level", r.Level);
            command.Parameters.AddWithValue("$demos", JsonSerializer.Serialize(r.Demonstrations, LearningJson.Style.IReadOnlyListString));
            command.Parameters.AddWithValue("$sampled", JsonSerializer.Serialize(r.Sampled, LearningJson.Style.IReadOnlyListString));
            command.Parameters.AddWithValue("$new", JsonSerializer.Serialize(r.NewlySolved, LearningJson.Style.IReadOnlyListString));
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
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT run, iteration, level, demonstrations, sampled, newly_solved, solved_train, solved_test, input_tokens, output_tokens
                FROM iterations WHERE ($run IS NULL OR run = $run) ORDER BY run, iteration
                """;
            command.Parameters.AddWithValue("$run", (object?)run ?? DBNull.Value);
            using var reader = command.ExecuteReader();
            var result = new List<(string, IterationRecord)>();
            static IReadOnlyList<string> List(string json) => JsonSerializer.Deserialize(json, LearningJson.Style.ListString) ?? [];
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
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}

public sealed class ExperienceStoreException(string message, Exception? inner = null) : Exception(message, inner);
