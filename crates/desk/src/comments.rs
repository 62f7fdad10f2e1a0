//! Ticket comments: public ones, and internal notes that only agents and admins see.
