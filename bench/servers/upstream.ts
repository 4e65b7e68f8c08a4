// The small-JSON upstream every path is measured against: the tests' recording upstream, run in
// its own process. It records every request, so the record is emptied as it goes (a benchmark
// sends millions); what it answers is unchanged.
import { startUpstream } from '../../test/support/upstream.js'

const upstream = await startUpstream()
setInterval(() => {
  upstream.requests.length = 0
}, 200).unref()
process.send?.({ url: upstream.url })
