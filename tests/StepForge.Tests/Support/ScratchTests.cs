namespace StepForge.Tests.Support;

public class ScratchTests
{
    [Fact]
    public void EachFolderIsNewAndEmpty()
    {
        var a = Scratch.Folder("x-");
        var b = Scratch.Folder("x-");
        Assert.NotEqual(a, b);
        Assert.Empty(Directory.EnumerateFileSystemEntries(a));
        Assert.StartsWith(Path.Combine(Path.GetTempPath(), "stepforge-tests-" + Environment.ProcessId), a, StringComparison.Ordinal);
    }

    [Fact]
    public void ARunDeletesTheFoldersOfRunsThatNoLongerRun_AndKeepsLiveOnes()
    {
        var temp = Scratch.Folder("temp-");
        var dead = Directory.CreateDirectory(Path.Combine(temp, "stepforge-tests-2000000000")).FullName; // above any Linux pid
        File.WriteAllText(Path.Combine(dead, "left.sqlite"), "");
        var live = Directory.CreateDirectory(Path.Combine(temp, "stepforge-tests-" + Environment.ProcessId)).FullName;
        var other = Directory.CreateDirectory(Path.Combine(temp, "stepforge-tests-notanumber")).FullName;

        Scratch.DeleteLeftovers(temp);

        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(other));
    }
}
