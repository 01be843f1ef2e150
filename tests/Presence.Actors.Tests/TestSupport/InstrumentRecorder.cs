using System.Diagnostics.Metrics;

namespace Presence.Actors.Tests.TestSupport;

/// <summary>Reads the observable instruments of one meter on demand, by instrument and first tag value.</summary>
internal sealed class InstrumentRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Instrument, string? Tag), long> _values = [];

    public InstrumentRecorder(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
                listener.EnableMeasurementEvents(instrument);
        };
        // Collections run on the caller's thread (RecordObservableInstruments), so no locking is needed.
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _values[(instrument.Name, tags.Length > 0 ? tags[0].Value as string : null)] = value);
        _listener.Start();
    }

    /// <summary>The instrument's current value for one tag value, or summed over all of them.</summary>
    public long Observe(string instrument, string? tag = null)
    {
        _values.Clear();
        _listener.RecordObservableInstruments();
        return _values.Where(value => value.Key.Instrument == instrument && (tag is null || value.Key.Tag == tag)).Sum(value => value.Value);
    }

    public void Dispose() => _listener.Dispose();
}
