using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace StepForge.Llm;

/// <summary>
/// Every answer a model gave, keyed by model, role, prompt, temperature, token limit and sample index, in a SQLite file
/// (the experiment's own file by default). A rerun of the same experiment asks nothing twice and gets the same answers.
/// Written the moment an answer arrives, so a killed run loses no paid-for answer.
/// </summary>
public sealed class ResponseCache : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public ResponseCache(string path)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;");
        Execute("""
            CREATE TABLE IF NOT EXISTS responses(
                key TEXT PRIMARY KEY,
                model TEXT NOT NULL,
                role TEXT NOT NULL,
                temperature REAL NOT NULL,
                sample_index INTEGER NOT NULL,
                text TEXT NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                usage_estimated INTEGER NOT NULL,
                seconds REAL NOT NULL,
                retries INTEGER NOT NULL,
                created TEXT NOT NULL)
            """);
    }

    public static string Key(string modelId, ModelRequest request)
    {
        var json = JsonSerializer.Serialize(new object[] { modelId, request.Role, request.System, request.User, request.Temperature, request.MaxTokens, request.SampleIndex });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }

    public ModelAnswer? TryGet(string key)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT text, input_tokens, output_tokens, usage_estimated, seconds, retries FROM responses WHERE key = $key";
            command.Parameters.AddWithValue("$key", key);
            using var reader = command.ExecuteReader();
            if (!reader.Read()) return null;
            return new ModelAnswer(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3) != 0, reader.GetDouble(4),
                (int)reader.GetInt64(5), Cached: true, Cost: null);
        }
    }

    public void Put(string key, string modelId, ModelRequest request, ModelAnswer answer)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT OR REPLACE INTO responses(key, model, role, temperature, sample_index, text, input_tokens, output_tokens, usage_estimated, seconds, retries, created)
                VALUES ($key, $model, $role, $t, $i, $text, $in, $out, $est, $s, $r, $created)
                """;
            (string Name, object Value)[] values =
            [
                ("$key", key), ("$model", modelId), ("$role", request.Role), ("$t", request.Temperature), ("$i", request.SampleIndex),
                ("$text", answer.Text), ("$in", answer.InputTokens), ("$out", answer.OutputTokens), ("$est", answer.UsageEstimated ? 1 : 0),
                ("$s", answer.Seconds), ("$r", answer.Retries), ("$created", DateTimeOffset.UtcNow.ToString("O")),
            ];
            foreach (var (name, value) in values) command.Parameters.AddWithValue(name, value);
            command.ExecuteNonQuery();
        }
    }

    public long Count
    {
        get
        {
            lock (_gate)
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM responses";
                return (long)command.ExecuteScalar()!;
            }
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}
