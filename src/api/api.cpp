#include "api/api.hpp"

#include "api/socketio/server.hpp"

namespace haul::api {

void install_routes(Router& router, ApiContext& context) {
  install_job_routes(router, context);
  install_live_routes(router, context);
  install_status_routes(router, context);
  install_remote_routes(router, context);
  install_docs_routes(router, context);
  install_model_routes(router, context);
  install_output_routes(router, context);
  install_web_routes(router, context);
  if (context.socketio != nullptr) context.socketio->install(router);
}

}  // namespace haul::api
