// The connection whose input the calling thread is processing now (nullptr outside of one):
// handlers run inline in a client's read can learn who asked (e.g. its rtt).
#pragma once

namespace nats {

class Connection;
Connection* current_reader_connection();

}  // namespace nats
