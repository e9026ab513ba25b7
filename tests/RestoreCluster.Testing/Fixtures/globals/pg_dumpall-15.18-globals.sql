--
-- PostgreSQL database cluster dump
--

\restrict ofbdXgzSATcQoLQehrhPBJrqwgWb8vfNY6vcGjtVdDUqK7FjZh2L2oWI8xfkW3l

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE "Fleet Quoted";
ALTER ROLE "Fleet Quoted" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE fleet_owner;
ALTER ROLE fleet_owner WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE fleet_reader;
ALTER ROLE fleet_reader WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;

--
-- User Configurations
--


--
-- Role memberships
--

GRANT fleet_reader TO fleet_owner GRANTED BY postgres;






\unrestrict ofbdXgzSATcQoLQehrhPBJrqwgWb8vfNY6vcGjtVdDUqK7FjZh2L2oWI8xfkW3l

--
-- PostgreSQL database cluster dump complete
--

