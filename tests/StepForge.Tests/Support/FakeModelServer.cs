using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace StepForge.Tests.Support;

/// <summary>What the fake model was asked.</summary>
public sealed record FakeRequest(string Dialect, string Model, string System, string User, double? Temperature);

/// <summary>What the fake model does with a request.</summary>
public abstract record FakeReply
{
    /// <summary>A normal answer; <paramref name="Usage"/> false leaves the usage fields out.</summary>
    public sealed record Answer(string Text, bool Usage = true, int DelayMs = 0) : FakeReply;

    /// <summary>An error status, with a Retry-After header (seconds) when given.</summary>
    public sealed record Status(int Code, double? RetryAfterSeconds = null) : FakeReply;

    /// <summary>A 200 with an empty body.</summary>
    public sealed record EmptyBody : FakeReply;

    /// <summary>A 200 with a body that is not the API's JSON.</summary>
    public sealed record Malformed : FakeReply;

    /// <summary>A correct answer whose body is sent one byte every <paramref name="TickMs"/> after the headers.</summary>
    public sealed record Trickle(string Text, int TickMs, bool Chunked) : FakeReply;
}

/// <summary>
/// A model provider on 127.0.0.1 that speaks OpenAI chat completions (POST /v1/chat/completions) and Anthropic
/// messages (POST /v1/messages), and answers from a script. Counts what it is asked.
/// </summary>
public sealed class FakeModelServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<FakeRequest, int, FakeReply> _script;
    private readonly Task _loop;
    private int _requests;

    public ConcurrentBag<FakeRequest> Received { get; } = [];

    /// <param name="script">The reply to a request, given the request and its number (1, 2, ...).</param>
    public FakeModelServer(Func<FakeRequest, int, FakeReply> script)
    {
        _script = script;
        for (int attempt = 0; ; attempt++)
        {
            Port = FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Someone took the port in between; pick another.
            }
        }
        _loop = Task.Run(Serve);
    }

    public int Port { get; }

    /// <summary>The base URL for the OpenAI dialect (ends in /v1), or for Anthropic (the root).</summary>
    public string OpenAIUrl => $"http://127.0.0.1:{Port}/v1";

    public string AnthropicUrl => $"http://127.0.0.1:{Port}";

    public int Requests => Volatile.Read(ref _requests);

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => Handle(context));
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = JsonNode.Parse(await reader.ReadToEndAsync().ConfigureAwait(false))!;
            var path = context.Request.Url!.AbsolutePath;
            var dialect = path.EndsWith("/messages", StringComparison.Ordinal) ? "anthropic" : "openai";
            var request = Parse(dialect, body);
            Received.Add(request);
            int number = Interlocked.Increment(ref _requests);
            var reply = _script(request, number);
            var response = context.Response;
            switch (reply)
            {
                case FakeReply.Status status:
                    response.StatusCode = status.Code;
                    if (status.RetryAfterSeconds is { } after) response.AddHeader("Retry-After", after.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    await Write(response, "application/json", dialect == "anthropic"
                        ? """{"type":"error","error":{"type":"api_error","message":"scripted failure"}}"""
                        : """{"error":{"message":"scripted failure","type":"server_error"}}""").ConfigureAwait(false);
                    break;
                case FakeReply.EmptyBody:
                    await Write(response, "application/json", "").ConfigureAwait(false);
                    break;
                case FakeReply.Malformed:
                    await Write(response, "application/json", "{\"choices\": [{\"oops\"").ConfigureAwait(false);
                    break;
                case FakeReply.Trickle trickle:
                {
                    var bytes = Encoding.UTF8.GetBytes(dialect == "anthropic" ? AnthropicBody(request, new FakeReply.Answer(trickle.Text)) : OpenAIBody(request, new FakeReply.Answer(trickle.Text)));
                    response.ContentType = "application/json";
                    if (trickle.Chunked) response.SendChunked = true;
                    else response.ContentLength64 = bytes.Length;
                    try
                    {
                        foreach (var b in bytes)
                        {
                            await response.OutputStream.WriteAsync(new[] { b }).ConfigureAwait(false);
                            await response.OutputStream.FlushAsync().ConfigureAwait(false);
                            await Task.Delay(trickle.TickMs).ConfigureAwait(false);
                        }
                        response.Close();
                    }
                    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                    {
                        // The client gave up, as it should.
                    }
                    break;
                }
                case FakeReply.Answer answer:
                    if (answer.DelayMs > 0) await Task.Delay(answer.DelayMs).ConfigureAwait(false);
                    await Write(response, "application/json", dialect == "anthropic" ? AnthropicBody(request, answer) : OpenAIBody(request, answer)).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away (a timeout, a killed run).
        }
    }

    private static FakeRequest Parse(string dialect, JsonNode body)
    {
        var system = new StringBuilder();
        var user = new StringBuilder();
        static string Text(JsonNode? content) => content switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
            _ => "",
        };
        if (body["system"] is { } s) system.Append(Text(s));
        foreach (var message in body["messages"]?.AsArray() ?? [])
        {
            var role = message?["role"]?.GetValue<string>();
            (role is "system" or "developer" ? system : user).Append(Text(message?["content"]));
        }
        double? temperature = body["temperature"] is JsonValue t ? t.GetValue<double>() : null;
        return new FakeRequest(dialect, body["model"]?.GetValue<string>() ?? "", system.ToString(), user.ToString(), temperature);
    }

    private static string OpenAIBody(FakeRequest request, FakeReply.Answer answer)
    {
        var json = new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = request.Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer.Text },
                ["finish_reason"] = "stop",
            }),
        };
        if (answer.Usage)
            json["usage"] = new JsonObject { ["prompt_tokens"] = 1000, ["completion_tokens"] = 100, ["total_tokens"] = 1100 };
        return json.ToJsonString();
    }

    private static string AnthropicBody(FakeRequest request, FakeReply.Answer answer)
    {
        var json = new JsonObject
        {
            ["id"] = "msg_fake",
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = request.Model,
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = answer.Text }),
            ["stop_reason"] = "end_turn",
            ["stop_sequence"] = null,
        };
        if (answer.Usage) json["usage"] = new JsonObject { ["input_tokens"] = 1000, ["output_tokens"] = 100 };
        return json.ToJsonString();
    }

    private static async Task Write(HttpListenerResponse response, string contentType, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        response.Close();
    }

    public void Dispose()
    {
        // Close alone: on Unix, Stop and then Close each unregister the listener, and the second finds the port gone
        // and binds it again to look for the prefix; a test that took the freed port in between made that throw
        // "Address already in use" from Dispose (seen once in the suite).
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); }
        catch (AggregateException) { }
    }
}
